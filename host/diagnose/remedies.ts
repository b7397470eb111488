/**
 * The guide's remedies, worded once. The guide is the precision-loss checklist of the Pulsar
 * docs ("精度损失排查与精度调优建议"); each text names the part of it it comes from, so a
 * reader can look it up. decide.ts picks and orders them per conclusion.
 */

export const REMEDY = {
  fixConfigFindings:
    'Fix the config errors listed under findings first (guide step 3.2: colour space and mean/std order): they cost accuracy on real images, yet pulsar run cannot show it because it gives the onnx reference the same wrong preprocessing. Rebuild, then diagnose again.',
  useOutputConfig:
    'Give pulsar run the output_config.prototxt that pulsar build wrote (--output_config), never the config the build read (guide step 3.1); any cosine measured with the wrong config says nothing about the model.',
  moreCalibration:
    'Calibrate on more data (guide, quantization remedies 1): raise dataset_conf_calibration { size } to a few hundred images (the docs use 256, batch_size 32) drawn from the training data.',
  strategyPairs:
    'Try the other calibration strategy/method pairs (guide, quantization remedies 2): calibration_strategy CALIB_STRATEGY_PER_TENSOR with observer_method OBSVR_METHOD_MIN_MAX or OBSVR_METHOD_MSE_CLIPPING are recommended; CALIB_STRATEGY_PER_CHANNEL may lose points.',
  int16:
    'Quantize the sensitive layers with 16 bits (guide, quantization remedies 3): neuwizard_conf { operator_conf { operator_conf_items { selector { } attributes { input_feature_type: UINT16 weight_type: INT8 } } } } (a selector naming the worst layers keeps the rest 8-bit).',
  errorMeasurement:
    'Turn on dataset_conf_error_measurement (a few images, guide, quantization remedies 4) with evaluation_conf { type: EVALUATION_TYPE_ERROR_MEASURE score_compare_per_layer: true } to measure the error during the build and find the first layer that loses precision (slow).',
  siluToRelu:
    'For a detection model: SiLU sometimes makes the mAP very low after quantization; replacing it with ReLU (and retraining) can fix it (guide, other notes).',
  calibrationUnlikeTraining:
    'Calibrate on images like the training data (guide, other notes): a calibration set very different from the training set loses much accuracy. Re-draw dataset_conf_calibration from the training (or deployment) images.',
  checkCalibrationImage:
    'Check the calibration set (guide, other notes): run one image from the calibration tar through pulsar run (--calibration-image IMG); if it scores well while your images do not, the calibration data is unlike your data.',
  qat:
    'If none of this recovers the accuracy, the model may be a corner case of post-training quantization: try quantization-aware training (QAT) (guide, tuning advice).',
  compileLayer:
    'Find the layer the hardware compile breaks: layer-by-layer comparison (score_compare_per_layer, guide step 3.4) and pulsar info --layer_mapping to name it in the onnx.',
  compileVendor:
    'The quantized model (lava_joint) is fine and the compiled joint is not: the loss is in Axera\'s hardware compile, which no config setting of the guide addresses. Try another toolchain version; if it persists, send the onnx, both configs, the lava_joint, the joint and both pulsar run logs to Axera\'s field engineer (guide step 5).',
  compileInt16:
    'As a workaround, 16-bit quantization of the layer that loses precision (operator_conf_items with input_feature_type: UINT16, weight_type: INT8) may compile differently.',
  passLava:
    'Tell quantization loss from compile loss: run the check again with --lava-joint (pulsar build leaves model.lava_joint beside the joint; guide step 3.3). Low there too → quantization; fine there → the hardware compile.',
  retrain:
    'Every platform loses accuracy, so the cause is common to all (guide step 1): consider training a better model and then quantizing it again.',
  samePrecision:
    'Find out whether the other platforms run the model INT8, INT16 or mixed (guide step 1) and quantize the same way on AX (16 bits: operator_conf_items with input_feature_type: UINT16, weight_type: INT8).',
  boardNothingToChange:
    'Nothing to change in your model, config or post-processing: the board computes differently from the simulator on the same input and the same joint (NPU instructions vs the cmodel, run_joint.so or the NPU driver, guide step 4). This is for Axera to fix: send the list below to their field engineer (guide step 5).',
  boardVersions:
    'Meanwhile, make sure the board\'s runtime and NPU driver come from the same SDK release as the toolchain that built the joint.',
  postListing:
    'Check your post-processing against run_joint\'s listing (guide step 4.1): output order and names, layout (NHWC/NCHW), dtype, and for integer outputs Q (real value = integer / Q).',
  postInputs:
    'Check what your application feeds the model: the board expects the raw input exactly like gt/input (dtype, NHWC layout, colour space from the listing); mean/std are compiled into the joint, so the application must not normalize again.',
  postBadCase:
    'For the images that fail (the guide\'s BadCase): run each through pulsar run (--input IMG) and on the board; if the board equals the simulator and the simulator equals the onnx, the difference is in your application.',
} as const;
