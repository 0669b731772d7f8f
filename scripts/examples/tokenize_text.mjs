// Dev-time: token ids of a text file by @huggingface/tokenizers (what quantkit's --calib-text and
// transformers.js use), so train_tiny_llama.py can check its own BPE encoding against it. Run from the
// repository root:
//
//   node scripts/examples/tokenize_text.mjs tokenizer.json text.txt ids.bin
//
// Writes the ids as little-endian int32.
import { readFileSync, writeFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

const [tokenizerPath, textPath, outPath] = process.argv.slice(2);
const tokenizer = new Tokenizer(JSON.parse(readFileSync(tokenizerPath, 'utf8')), {});
const ids = tokenizer.encode(readFileSync(textPath, 'utf8'), { add_special_tokens: false }).ids;
writeFileSync(outPath, new Uint8Array(Int32Array.from(ids).buffer));
