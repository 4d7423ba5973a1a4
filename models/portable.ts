// The second public API of models/: what runs in a browser bundle as it runs in Node (no file system,
// no native libraries): the sampling pipeline on a model configuration, and a model's weights from the
// safetensors bytes `kiln serve` sends. Node code keeps importing models/index.ts.
export { CONFIGS, modelParts, type ModelConfig, type ModelParts } from "./config.ts";
export { Sampler, toRgbBytes, type SampleOptions, type Weights } from "./pipeline.ts";
export { weightsFromSafetensors } from "./weights-bundle.ts";
export { describeReading } from "./text/vocabulary.ts";
