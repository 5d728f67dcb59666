// No bundler: the package files are served as they are in the tarball.
import { init, Oneshare, parseLink, parseDuration } from '/pkg/index.mjs';

const status = document.getElementById('status');
try {
  await init();
  const client = await Oneshare.connect(location.origin);
  // With a passphrase: Argon2id runs in the package's worker (src/stretch-worker.mjs),
  // which loads its own module, all resolved from the files as served.
  const { link, shareId } = await client.create({
    record: { title: 'plain page', fields: [{ type: 'note', value: 'from a script tag' }] },
    expiresIn: '10m',
    passphrase: 'plain page pass',
  });
  const ok = parseLink(link).shareId === shareId && parseDuration('10m') === 600;
  status.textContent = ok ? `ready ${client.relayKeyId}` : 'mismatch';
} catch (e) {
  status.textContent = `error ${e.code ?? ''} ${e.message}`;
}
