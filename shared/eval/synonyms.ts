/**
 * `--synonyms FILE`: answers (and truth values) that mean a label of the vocabulary, e.g. `{"sunny": "clear"}` for
 * every attribute, or `{"weather": {"sunny": "clear"}}` for one. Each use is counted per side and reported, so a
 * score that needed synonyms says so.
 */
import { UsageError } from '../cli/UsageError';
import { isObject, readJsonFile } from './readJsonFile';
import type { SynonymUse } from './types';

export class Synonyms {
  private readonly uses = new Map<string, SynonymUse>();

  constructor(
    private readonly global: ReadonlyMap<string, string>,
    private readonly perAttribute: ReadonlyMap<string, ReadonlyMap<string, string>>,
  ) {}

  static none(): Synonyms {
    return new Synonyms(new Map(), new Map());
  }

  static parse(data: unknown, where: string): Synonyms {
    if (!isObject(data)) throw new UsageError(`--synonyms ${where}: expected a JSON object {"from": "to"} or {"attribute": {"from": "to"}}.`);
    const global = new Map<string, string>();
    const per = new Map<string, Map<string, string>>();
    for (const [k, v] of Object.entries(data)) {
      if (typeof v === 'string') global.set(k, v);
      else if (isObject(v) && Object.values(v).every((x) => typeof x === 'string')) per.set(k, new Map(Object.entries(v as Record<string, string>)));
      else throw new UsageError(`--synonyms ${where}: "${k}" must map to a label or to an object of label → label.`);
    }
    return new Synonyms(global, per);
  }

  static load(file: string): Synonyms {
    return Synonyms.parse(readJsonFile(file, '--synonyms'), file);
  }

  /** The vocabulary label for `value` of `attribute` (null: a single label), counting the use. */
  map(attribute: string | null, value: string, side: 'truth' | 'predictions'): string {
    const specific = attribute === null ? undefined : this.perAttribute.get(attribute)?.get(value);
    const to = specific ?? this.global.get(value);
    if (to === undefined || to === value) return value;
    const scope = specific === undefined ? null : attribute;
    const key = `${scope ?? ''}\u0000${value}`;
    const use = this.uses.get(key) ?? { attribute: scope, from: value, to, truth: 0, predictions: 0 };
    use[side]++;
    this.uses.set(key, use);
    return to;
  }

  used(): SynonymUse[] {
    return [...this.uses.values()].sort((a, b) => `${a.attribute ?? ''}${a.from}`.localeCompare(`${b.attribute ?? ''}${b.from}`));
  }
}
