/** proto/gen/ must be exactly what scripts/gen-proto.ts makes of proto/axctl.proto. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Root } from 'protobufjs/light';
import { describe, expect, it } from 'vitest';
import { descriptor } from '../../proto/gen/axctl-descriptor';
import { decodeEnvelope, encodeEnvelope, outlineEnvelope, type Envelope } from '../../shared/protocol/envelope';
import { generateProtoSources } from '../../scripts/gen-proto';

const root = path.resolve(__dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

describe('generated protocol code', () => {
  const sources = generateProtoSources(read('proto/axctl.proto'));

  it.each(Object.keys(sources))('proto/gen/%s is up to date (run node dist/scripts/gen-proto.js)', (name) => {
    expect(read(`proto/gen/${name}`)).toBe(sources[name as keyof typeof sources]);
  });

  it('proto/gen/axctl-static.ts, which the build makes, is what pbjs makes of proto/axctl.proto', async () => {
    const { generateStaticCode, STATIC_CODE_FILE } = require('../../scripts/proto-static.js') as { generateStaticCode(): Promise<string>; STATIC_CODE_FILE: string };
    const text = await generateStaticCode();
    expect(text).toContain('export const axctl');
    expect(readFileSync(STATIC_CODE_FILE, 'utf8')).toBe(text);
  });

  it('the committed descriptor loads without the .proto file and knows every Envelope body', () => {
    const envelope = Root.fromJSON(descriptor).lookupType('axctl.v1.Envelope');
    const bodies = envelope.oneofs.body!.fieldsArray.map((f) => f.name);
    expect(bodies).toContain('putChunk');
    expect(bodies).toContain('runResult');
    const types = read('proto/gen/axctl-types.ts');
    for (const body of bodies) expect(types).toContain(`body: '${body}'`);
  });

  // The static code is what the protocol runs; the descriptor is the schema as protobufjs
  // reflects it. Both from one .proto: the same bytes and the same objects, oneofs, int64s,
  // enums, repeated messages and defaults included.
  it('the static code encodes and decodes as protobufjs reflecting the descriptor does', () => {
    const reflected = Root.fromJSON(descriptor).lookupType('axctl.v1.Envelope');
    const asPlain = { longs: Number, enums: String, defaults: true, arrays: true, oneofs: true };
    const samples = [
      { id: 0, clientHello: { protocolMajor: 1, protocolMinor: 2 } },
      { id: 7, has: { blobs: [{ hash: 'a'.repeat(64) }, { hash: 'b'.repeat(64) }] } },
      { id: 9, runResult: { status: 'RUN_STATUS_FAILED', signal: 'SIGSEGV', log: 'x', durationMs: 2 ** 40 + 3, outputs: [{ name: 'out/0', hash: 'c'.repeat(64), size: 40 }], problems: [] } },
      { id: 3, error: { code: 'BLOB_MISSING', message: 'no such blob' } },
      { id: 4 },
    ];
    for (const sample of samples) {
      const bytes = Buffer.from(reflected.encode(reflected.fromObject(sample)).finish());
      expect(bytes.length).toBeGreaterThan(1);
      expect(Buffer.from(encodeEnvelope(sample as unknown as Envelope))).toEqual(bytes);
      const decoded = decodeEnvelope(bytes);
      expect(decoded).toEqual(reflected.toObject(reflected.decode(bytes), asPlain));
      // And back: what a peer decoded, encoded again, is decoded the same (defaults now set).
      const again = Buffer.from(encodeEnvelope(decoded));
      expect(again).toEqual(Buffer.from(reflected.encode(reflected.fromObject(decoded)).finish()));
      expect(decodeEnvelope(again)).toEqual(decoded);
    }
    // The outline reads the body and counts repeated entries from the descriptor's field numbers.
    const has = encodeEnvelope({ id: 7, body: 'has', has: { blobs: [{ hash: 'a'.repeat(64) }, { hash: 'b'.repeat(64) }] } } as Envelope);
    expect(outlineEnvelope(has)).toEqual({ id: 7, body: 'has', entries: new Map([['blobs', 2]]) });
  });
});

