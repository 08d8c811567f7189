/**
 * The fake's Azure OpenAI Files API (`/openai/files`): multipart upload, get, content, delete, list. Generic over
 * purposes, so Batch input (`batch`) and fine-tuning data (`fine-tune`) share it; what a purpose's content must look
 * like is checked by the API that reads the file (batches, fine-tuning jobs), as Azure does.
 */
import { randomBytes } from 'node:crypto';

import busboy from 'busboy';

import { invalidRequest, ServiceError } from './serviceError';

/** Purposes Azure accepts on upload (GA 2024-10-21 `FilePurpose`); `batch_output` files are only made by the service. */
export const UPLOAD_PURPOSES: ReadonlySet<string> = new Set(['fine-tune', 'fine-tune-results', 'assistants', 'assistants_output', 'batch']);

export interface FakeFile {
  object: 'file';
  id: string;
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  /** `pending` right after upload, `processed` once the service has looked at it (GA example: pending, then processed). */
  status: 'pending' | 'processed' | 'error' | 'deleted';
}

export interface FilesApiOptions {
  /** Real ms before an upload turns `processed`; default 20. */
  processingMs?: number;
  /** Largest upload accepted; default 200 MB (the batch input limit, below the fine-tuning 512 MB). */
  maxUploadBytes?: number;
}

export interface FakeFiles {
  /** Answers a `/openai/files...` request; throws ServiceError for a refusal. */
  handle(method: string, pathname: string, query: URLSearchParams, headers: Record<string, string>, raw: Buffer): Promise<{ status: number; body: unknown; headers?: Record<string, string>; raw?: Buffer }>;
  /** A file the service itself writes (batch output and error files). */
  create(filename: string, purpose: string, content: Buffer): FakeFile;
  get(id: string): FakeFile | undefined;
  content(id: string): Buffer | undefined;
  list(): FakeFile[];
  clear(): void;
}

const MAX_FILENAME = 255;

export function createFakeFiles(options: FilesApiOptions = {}): FakeFiles {
  const processingMs = options.processingMs ?? 20;
  const maxUploadBytes = options.maxUploadBytes ?? 200 * 1024 * 1024;
  const files = new Map<string, { file: FakeFile; content: Buffer; uploadedAt: number }>();

  function view(id: string): FakeFile | undefined {
    const entry = files.get(id);
    if (entry === undefined) return undefined;
    if (entry.file.status === 'pending' && Date.now() - entry.uploadedAt >= processingMs) entry.file.status = 'processed';
    return { ...entry.file };
  }

  function add(filename: string, purpose: string, content: Buffer, status: FakeFile['status']): FakeFile {
    const file: FakeFile = { object: 'file', id: `file-${randomBytes(16).toString('hex')}`, bytes: content.length, created_at: Math.floor(Date.now() / 1000), filename, purpose, status };
    files.set(file.id, { file, content, uploadedAt: Date.now() });
    return { ...file };
  }

  function notFound(id: string): ServiceError {
    return new ServiceError(404, { code: 'fileNotFound', message: `File with id '${id}' not found.` });
  }

  return {
    async handle(method, pathname, query, headers, raw) {
      if (pathname === '/openai/files') {
        if (method === 'GET') {
          const purpose = query.get('purpose');
          const data = [...files.keys()].map((id) => view(id)).filter((f): f is FakeFile => f !== undefined && (purpose === null || f.purpose === purpose));
          return { status: 200, body: { object: 'list', data } };
        }
        if (method === 'POST') {
          if (raw.length > maxUploadBytes) throw new ServiceError(413, { code: 'RequestEntityTooLarge', message: `The file is larger than ${maxUploadBytes} bytes.` });
          const form = await parseMultipart(headers, raw);
          const purpose = form.fields.get('purpose');
          if (purpose === undefined || purpose === '') throw invalidRequest("'purpose' is a required property", 'purpose');
          if (!UPLOAD_PURPOSES.has(purpose)) throw invalidRequest(`'${purpose}' is not one of ${[...UPLOAD_PURPOSES].map((p) => `'${p}'`).join(', ')} - 'purpose'`, 'purpose');
          if (form.file === undefined) throw invalidRequest("'file' is a required property", 'file');
          if (form.file.filename === '' || form.file.filename.length > MAX_FILENAME) throw invalidRequest('The file needs a name of 1 to 255 characters.', 'file');
          if (form.file.content.length === 0) throw invalidRequest('The file is empty.', 'file', 'empty_file');
          const file = add(form.file.filename, purpose, form.file.content, 'pending');
          return { status: 201, body: file, headers: { location: `/openai/files/${file.id}` } };
        }
        throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on /files.` });
      }
      const match = /^\/openai\/files\/([^/]+)(\/content)?$/.exec(pathname);
      if (match === null) throw new ServiceError(404, { code: '404', message: 'Resource not found' });
      const id = decodeURIComponent(match[1] ?? '');
      const file = view(id);
      if (file === undefined) throw notFound(id);
      if (match[2] !== undefined) {
        if (method !== 'GET') throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on file content.` });
        return { status: 200, body: undefined, raw: files.get(id)?.content ?? Buffer.alloc(0), headers: { 'content-type': 'application/octet-stream' } };
      }
      if (method === 'GET') return { status: 200, body: file };
      if (method === 'DELETE') {
        files.delete(id);
        return { status: 200, body: { object: 'file', deleted: true, id } };
      }
      throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on a file.` });
    },
    create(filename, purpose, content) {
      return add(filename, purpose, content, 'processed');
    },
    get: view,
    content(id) {
      return files.get(id)?.content;
    },
    list() {
      return [...files.keys()].map((id) => view(id)).filter((f): f is FakeFile => f !== undefined);
    },
    clear() {
      files.clear();
    },
  };
}

interface Multipart {
  fields: Map<string, string>;
  file: { filename: string; content: Buffer } | undefined;
}

/** The upload as the SDK sends it: `multipart/form-data` with a `purpose` field and a `file` part. */
function parseMultipart(headers: Record<string, string>, raw: Buffer): Promise<Multipart> {
  const type = headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) return Promise.reject(invalidRequest('The upload must be multipart/form-data with the fields purpose and file.', null));
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string>();
    let file: Multipart['file'];
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': type } });
    } catch (e) {
      reject(invalidRequest(`The multipart body could not be read: ${e instanceof Error ? e.message : String(e)}`, null));
      return;
    }
    parser.on('field', (name, value) => fields.set(name, value));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (name === 'file') file = { filename: info.filename ?? '', content: Buffer.concat(chunks) };
      });
    });
    parser.on('error', (e) => reject(invalidRequest(`The multipart body could not be read: ${e instanceof Error ? e.message : String(e)}`, null)));
    parser.on('close', () => resolve({ fields, file }));
    parser.end(raw);
  });
}
