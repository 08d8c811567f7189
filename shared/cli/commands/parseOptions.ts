/** Option parsers that turn a bad value into commander's usage error (exit 2) with the reason. */
import { InvalidArgumentError } from 'commander';

export function positiveInt(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}, got ${JSON.stringify(value)}.`);
    return n;
  };
}

export function positiveUsd(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected an amount in US dollars above 0, e.g. 5 or 0.25, got ${JSON.stringify(value)}.`);
  return n;
}
