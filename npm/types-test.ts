// Compile-only usage check of index.d.ts (`tsc --noEmit`): the README examples.
import { decryptAttachment, init, Oneshare, OneshareError, parseLink, type ErrorCode, type RecordResult } from './index.js';
import { randomKey, init as initTesting } from './testing.js';

export async function recipient(link: string): Promise<string> {
  await init();
  const client = await Oneshare.connect('https://share.example');
  const opened: RecordResult = await client.open(link);
  const first = opened.record.attachments?.[0];
  if (first) {
    const stream = await client.attachment(opened.shareId, first.id, { onProgress: (p) => void p.loaded });
    await new Response(stream).blob();
  }
  parseLink(link).shareId.toUpperCase();
  return opened.record.fields.map((f) => `${f.type}:${f.value}`).join('\n');
}

export async function sender(file: File): Promise<void> {
  await init();
  const client = await Oneshare.connect('https://share.example');
  const { link, shareId } = await client.create({
    record: { title: 'Wi-Fi', fields: [{ type: 'password', value: 'hunter2' }] },
    attachments: [file, { name: 'a.txt', data: new Uint8Array([1]) }],
    expiresIn: '1h',
    selfDestruct: true,
    label: 'for Alice',
    onProgress: ({ loaded, total }) => void (loaded / total),
  });
  void link;
  for (const s of await client.listShares()) void s.label;
  await client.update(shareId, { title: 'Wi-Fi', fields: [] });
  for await (const ev of client.events()) {
    if (ev.kind === 'bound') break;
  }
  const asked = await client.requestTransfer(link);
  if (asked.state === 'pending') void asked.comparisonCode.length;
  const progress = await client.transferStatus(link);
  if (progress.state === 'approved') void progress.result.record.title;
  for (const t of await client.pendingTransfers()) {
    await client.approveTransfer(t.shareId, t.comparisonCode);
    await client.denyTransfer(t.shareId);
  }
  await client.revoke(shareId);
  try {
    await client.record(shareId);
  } catch (e) {
    if (e instanceof OneshareError && e.code === 'not_on_device') return;
  }
}

export async function serviceWorkerStyle(body: ReadableStream<Uint8Array>, key: string, size: number): Promise<Blob> {
  await init();
  const plain = await decryptAttachment(body, key, size, (p) => void p.total);
  return new Response(plain).blob();
}

export async function codes(e: unknown): Promise<ErrorCode | null> {
  await initTesting();
  void randomKey().length;
  return e instanceof OneshareError ? e.code : null;
}
