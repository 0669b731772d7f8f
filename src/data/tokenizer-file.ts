/**
 * A Hugging Face tokenizer read from its tokenizer.json (and the tokenizer_config.json beside it, when
 * there is one: it carries settings such as lower-casing that the tokenizer obeys). Tokenising is done
 * by @huggingface/tokenizers, the pure-JavaScript tokenizer transformers.js itself uses, so ids match
 * what the model sees in deployment; quantkit never hand-writes a tokenizer.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { QuantkitError } from '../errors.js';
import { describeFsError } from './fs-errors.js';

export interface TextTokenizer {
  readonly path: string;
  /** Token ids of `text`, without special tokens (no BOS/EOS): windows cut from it are plain text. */
  encode(text: string): number[];
}

export async function readTokenizer(path: string): Promise<TextTokenizer> {
  const json = await readJson(path, 'tokenizer');
  const configPath = join(dirname(path), 'tokenizer_config.json');
  const config = existsSync(configPath) ? await readJson(configPath, 'tokenizer config') : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (e) {
    throw new QuantkitError(
      `tokenizer '${path}': not a Hugging Face tokenizer.json this tokenizer library can use (${(e as Error).message})`,
    );
  }
  return { path, encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids };
}

async function readJson(path: string, what: string): Promise<object> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new QuantkitError(`${what} '${path}': ${describeFsError(e)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new QuantkitError(`${what} '${path}' is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new QuantkitError(`${what} '${path}' must hold a JSON object`);
  }
  return parsed;
}
