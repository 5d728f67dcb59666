// prepack guard: refuse to pack without the built wasm (run `cargo xtask npm`).
import { existsSync } from 'node:fs';

for (const f of ['dist/oneshare_web.js', 'dist/oneshare_web.d.ts', 'dist/oneshare_web_bg.wasm', 'dist/oneshare_stretch.js', 'dist/oneshare_stretch_bg.wasm']) {
  if (!existsSync(new URL(`../${f}`, import.meta.url))) {
    console.error(`@oneshare/sdk: ${f} is missing; build it with \`cargo xtask npm\` from the repository root`);
    process.exit(1);
  }
}
