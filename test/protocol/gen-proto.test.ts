/** proto/gen/ must be exactly what scripts/gen-proto.ts makes of proto/axctl.proto. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Root } from 'protobufjs/light';
import { describe, expect, it } from 'vitest';
import { descriptor } from '../../proto/gen/axctl-descriptor';
import { generateProtoSources } from '../../scripts/gen-proto';

const root = path.resolve(__dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

describe('generated protocol code', () => {
  const sources = generateProtoSources(read('proto/axctl.proto'));

  it.each(Object.keys(sources))('proto/gen/%s is up to date (run node dist/scripts/gen-proto.js)', (name) => {
    expect(read(`proto/gen/${name}`)).toBe(sources[name as keyof typeof sources]);
  });

  it('the committed descriptor loads without the .proto file and knows every Envelope body', () => {
    const envelope = Root.fromJSON(descriptor).lookupType('axctl.v1.Envelope');
    const bodies = envelope.oneofs.body!.fieldsArray.map((f) => f.name);
    expect(bodies).toContain('putChunk');
    expect(bodies).toContain('runResult');
    const types = read('proto/gen/axctl-types.ts');
    for (const body of bodies) expect(types).toContain(`body: '${body}'`);
  });
});
