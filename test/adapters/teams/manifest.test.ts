import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { parseCommand } from '../../../src/core/command';

// The Teams app package (adapters/teams/manifest): the manifest names the bot and lists commands jitbot
// understands; the icons are what Teams requires (192×192 colour, 32×32 white-on-transparent outline).

const DIR = join(__dirname, '../../../adapters/teams/manifest');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));

test('the bot is the app, in team, group chat and personal scopes, with no placeholders but the documented ones', () => {
  expect(manifest.manifestVersion).toBe('1.19');
  expect(manifest.bots).toHaveLength(1);
  expect(manifest.bots[0].botId).toBe(manifest.id);
  expect(manifest.bots[0].scopes).toEqual(['team', 'groupChat', 'personal']);
  const placeholders = new Set(JSON.stringify(manifest).match(/\{\{[A-Z_]+\}\}/g));
  expect([...placeholders].sort()).toEqual(['{{APP_ID}}', '{{HOST}}', '{{ORGANISATION}}']);
  expect(manifest.name.short.length).toBeLessThanOrEqual(30);
  expect(manifest.description.short.length).toBeLessThanOrEqual(80);
  expect(manifest.description.full.length).toBeLessThanOrEqual(4000);
});

test("every listed command is one jitbot understands, within Teams' limits", () => {
  const commands = manifest.bots[0].commandLists[0].commands as { title: string; description: string }[];
  expect(commands.length).toBeLessThanOrEqual(10);
  for (const { title, description } of commands) {
    expect(title.length).toBeLessThanOrEqual(32);
    expect(description.length).toBeLessThanOrEqual(128);
    const typed = ['status', 'cancel', 'revoke'].includes(title) ? `${title} JIT-7K3Q2` : title;
    expect(parseCommand(typed)).toMatchObject({ ok: true, command: { kind: title } });
  }
});

test.each([
  ['color.png', 192, false],
  ['outline.png', 32, true],
])('%s is a %i-pixel square PNG', (file, size, outline) => {
  const image = decodePng(readFileSync(join(DIR, file)));
  expect([image.width, image.height]).toEqual([size, size]);
  if (outline) {
    // Only white (any opacity) or fully transparent pixels, and some of each.
    const kinds = new Set<string>();
    for (let i = 0; i < image.pixels.length; i += 4) {
      const [r, g, b, a] = image.pixels.subarray(i, i + 4);
      if (a === 0) kinds.add('transparent');
      else if (r === 255 && g === 255 && b === 255) kinds.add('white');
      else kinds.add('other');
    }
    expect([...kinds].sort()).toEqual(['transparent', 'white']);
  }
});

/** A minimal decoder for the 8-bit RGBA, filter-0 PNGs in the package. */
function decodePng(data: Buffer): { width: number; height: number; pixels: Buffer } {
  expect(data.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('ascii', offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect([body[8], body[9]]).toEqual([8, 6]); // 8-bit RGBA
    }
    if (type === 'IDAT') idat.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4 + 1;
  expect(raw.length).toBe(stride * height);
  const pixels = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * stride]).toBe(0);
    raw.copy(pixels, y * width * 4, y * stride + 1, (y + 1) * stride);
  }
  return { width, height, pixels };
}
