/**
 * The model description run_joint prints after loading a model (`brief_io_info` in its
 * source), with the same printf strings, including their trailing spaces: the Shape line
 * of an input is `"] %s %s %s %s\n"` (layout, dtype, colour space, `Q=n` or ""), of an
 * output `"] %s %s %s\n"` (layout, dtype, `Q=n` or ""), so a tensor without Q ends in a space.
 */
import { tensorSize, type SimModel, type TensorSpec } from './model';

export function briefIoInfo(model: SimModel): string {
  let out = `Max Batch Size ${model.maxBatchSize}\n`;
  out += `Support Dynamic Batch? ${model.dynamicBatch ? 'Yes' : 'No'}\n`;
  out += `Is FilterMode? ${model.filterMode ? 'Yes' : 'No'}\n\n`;
  out += `Quantization Type is ${model.quantization}\n\n`;
  model.inputs.forEach((input, i) => {
    out += `Input[${i}]: ${input.name}\n`;
    out += `    Shape [${input.shape.join(', ')}] ${input.layout} ${input.dtype} ${input.colorSpace ?? ''} ${qText(input)}\n`;
    out += tail(input);
  });
  model.outputs.forEach((output, i) => {
    out += `Output[${i}]: ${output.name}\n`;
    out += `    Shape [${output.shape.join(', ')}] ${output.layout} ${output.dtype} ${qText(output)}\n`;
    out += tail(output);
  });
  return out;
}

function qText(spec: TensorSpec): string {
  return spec.q && spec.q > 0 ? `Q=${spec.q}` : '';
}

function tail(spec: TensorSpec): string {
  return `    Memory ${spec.memory ?? 'Physical'}\n    Size ${tensorSize(spec)}\n`;
}
