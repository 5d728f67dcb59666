// The vector files' STREAM and envelope cases through the packaged SDK: the
// attachment decrypt path (decryptAttachment: SubtleCrypto driven by the core's
// STREAM state machine) and the record envelope path (openEnvelope).
const SEG = 65536;
const ENC = SEG + 16;
const HEADER = 24;

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const sha256 = async (b) => toHex(await crypto.subtle.digest('SHA-256', b));
const pattern = (n) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const concat = (parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

/** The ciphertext of a seal case, from its key and nonce prefix, by the SDK's upload encryption. */
function seal(c, testing) {
  return testing.streamSeal(hex(c.file_key_hex), pattern(c.plaintext_len), hex(c.nonce_prefix_hex));
}

/** Applies a tamper description (see stream.json's description). */
async function tamper(ct, source, t, testing) {
  const header = ct.subarray(0, HEADER);
  const segs = [];
  for (let at = HEADER; at < ct.length; at += ENC) segs.push(ct.subarray(at, Math.min(at + ENC, ct.length)));
  switch (t.kind) {
    case 'none': return ct;
    case 'drop_final_segment': return concat([header, ...segs.slice(0, -1)]);
    case 'truncate_to': return ct.subarray(0, t.length);
    case 'swap_segments': [segs[t.a], segs[t.b]] = [segs[t.b], segs[t.a]]; return concat([header, ...segs]);
    case 'append_copy_of_segment': return concat([header, ...segs, segs[t.index]]);
    case 'append_hex': return concat([ct, hex(t.hex)]);
    case 'flip_bit': { const out = ct.slice(); out[t.offset] ^= 1 << t.bit; return out; }
    case 'reseal_segment': {
      const key = await crypto.subtle.importKey('raw', hex(source.file_key_hex), 'AES-GCM', false, ['encrypt']);
      const iv = testing.segmentNonce(hex(source.nonce_prefix_hex), t.index, t.last);
      const chunk = pattern(source.plaintext_len).subarray(t.index * SEG, (t.index + 1) * SEG);
      segs[t.index] = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, chunk));
      return concat([header, ...segs]);
    }
    default: throw new Error(`unknown tamper kind ${t.kind}`);
  }
}

/** Streams `bytes` in odd-sized chunks, as a network would. */
function chunked(bytes) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + 40000));
      at += 40000;
    },
  });
}

/** Runs one stream.json case; `source` is the seal case an open case names;
 * `bytes` reads the ciphertext from a byte stream (as `fetch` gives) instead. */
export async function streamCase(c, source, bytes, { testing, decryptAttachment }) {
  const from = c.op === 'seal' ? c : source;
  let ct = await seal(from, testing);
  const out = {};
  if (c.op === 'seal') {
    out.sha256 = await sha256(ct);
    out.header = toHex(ct.subarray(0, HEADER));
    out.length = ct.length;
  } else {
    ct = await tamper(ct, source, c.tamper, testing);
  }
  const key = hex(c.file_key_hex);
  try {
    // Read with a reader: Response would turn the stream's error into a TypeError.
    const reader = (await decryptAttachment(bytes ? new Blob([ct]).stream() : chunked(ct), key, from.plaintext_len)).getReader();
    const parts = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    out.plaintextOk = (await sha256(concat(parts))) === (await sha256(pattern(from.plaintext_len)));
  } catch (e) {
    out.code = e?.code ?? `uncoded: ${e}`;
  }
  return out;
}

/**
 * Bad segments where the SDK's download reads its 2 MiB buffers: segment 30 is
 * the last whole one in the first buffer (judged after the read into the next
 * buffer, so a probe reads it from the buffer before), 31 is cut by the buffer's
 * end (copied into the next). Each is resealed as a final segment (data was
 * appended after it: `trailing_data`) or has a bit flipped (`decrypt`); the
 * intact stream must open. `bytes`: a byte stream instead of odd-sized chunks.
 */
export async function bufferEdgeCases(bytes, { testing, decryptAttachment }) {
  const fileKey = crypto.getRandomValues(new Uint8Array(32));
  const prefix = crypto.getRandomValues(new Uint8Array(7));
  const size = 40 * SEG + 5;
  const ct = await testing.streamSeal(fileKey, pattern(size), prefix);
  const aes = await crypto.subtle.importKey('raw', fileKey, 'AES-GCM', false, ['encrypt']);
  const at = (i) => HEADER + i * ENC;
  const resealedFinal = async (i) => {
    const out = ct.slice();
    const iv = testing.segmentNonce(prefix, i, true);
    out.set(new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, pattern(size).subarray(i * SEG, (i + 1) * SEG))), at(i));
    return out;
  };
  const flipped = (i) => {
    const out = ct.slice();
    out[at(i) + 100] ^= 1;
    return out;
  };
  const open = async (body) => {
    try {
      const reader = (await decryptAttachment(bytes ? new Blob([body]).stream() : chunked(body), fileKey, size)).getReader();
      const parts = [];
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
      return (await sha256(concat(parts))) === (await sha256(pattern(size))) ? 'ok' : 'wrong plaintext';
    } catch (e) {
      return e?.code ?? `uncoded: ${e}`;
    }
  };
  return {
    intact: await open(ct),
    final30: await open(await resealedFinal(30)),
    final31: await open(await resealedFinal(31)),
    flip30: await open(flipped(30)),
    flip31: await open(flipped(31)),
  };
}

/** Runs one envelope.json case through the SDK's envelope open path. */
export async function envelopeCase(c, { testing }) {
  const envelope = c.op === 'seal' ? c.expected.envelope_hex : c.envelope_hex;
  try {
    return { plaintext: toHex(await testing.openEnvelope(hex(c.key_hex), hex(c.aad_hex), hex(envelope))) };
  } catch (e) {
    return { code: e?.code ?? `uncoded: ${e}` };
  }
}

const coded = async (f) => {
  try {
    return await f();
  } catch (e) {
    return { code: e?.code ?? `uncoded: ${e}` };
  }
};

/** A link to a share id nobody created: open() must refuse before any request. */
const unusedLink = () => `${location.origin}/s#${'A'.repeat(43)}`;

/**
 * Runs one open_code.json case through the packaged SDK: parse and derive
 * through the code `open({ code })` sends (and, for text that is not a code,
 * `open` itself, which must refuse before sending anything), check through the
 * relay's proof check as compiled into the package.
 */
export async function openCodeCase(c, { testing, client, requests }) {
  switch (c.op) {
    case 'generate':
      return testing.openCodeFromRandom(hex(c.random_hex));
    case 'parse':
    case 'derive': {
      const token = hex(c.token_hex ?? '00'.repeat(32));
      const typed = c.op === 'parse' ? c.input : c.code;
      if (c.error) {
        const direct = await coded(async () => testing.openCodeDerive(token, typed));
        // The public path: open() refuses the typed text before any request.
        const before = requests.length;
        const viaOpen = await coded(() => client.open(unusedLink(), { code: typed }));
        return { direct, viaOpen, sent: requests.length - before };
      }
      const d = testing.openCodeDerive(token, typed);
      return c.op === 'parse' ? { code: d.code } : { code: d.code, proof_hex: toHex(d.proof), verifier_hex: toHex(d.verifier) };
    }
    case 'check':
      return coded(async () => testing.checkProof('open_code', hex(c.verifier_hex), hex(c.proof_hex)));
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

/** Runs one passphrase.json case through the packaged SDK (Argon2id in its on-demand module, NFC by the browser). */
export async function passphraseCase(c, { testing, client, requests }) {
  const token = hex(c.token_hex ?? '00'.repeat(32));
  switch (c.op) {
    case 'derive': {
      if (c.error) {
        const direct = await coded(async () => testing.passphraseDerive(token, c.passphrase));
        const before = requests.length;
        const viaOpen = await coded(() => client.open(unusedLink(), { passphrase: c.passphrase }));
        return { direct, viaOpen, sent: requests.length - before };
      }
      const d = await testing.passphraseDerive(token, c.passphrase);
      return { salt_hex: toHex(d.salt), wrap_key_hex: toHex(d.wrapKey), proof_hex: toHex(d.proof), verifier_hex: toHex(d.verifier) };
    }
    case 'wrap':
      // The wrapped key of this vector opens to its record key in the client's unwrap.
      return coded(async () => ({ record_key_hex: toHex(await testing.passphraseUnwrap(token, c.passphrase, hex(c.expected.wrapped_key_hex))) }));
    case 'unwrap':
      return coded(async () => ({ record_key_hex: toHex(await testing.passphraseUnwrap(token, c.passphrase ?? undefined, hex(c.wrapped_key_hex))) }));
    case 'check':
      return coded(async () => testing.checkProof('passphrase', hex(c.verifier_hex), hex(c.proof_hex)));
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}
