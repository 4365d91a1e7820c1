import type { InputSpec, PresetName } from '../../../shared/manifest';

/**
 * The preprocessing of each model family, as its training pipeline did it. A pixel p in 0..255
 * becomes x = (p * scale - mean[c]) / std[c]; sizes come from the graph when it fixes them.
 */
export interface Preset {
  /** Where the numbers come from, for help texts. */
  about: string;
  channels: 1 | 3;
  channelOrder: 'RGB' | 'BGR';
  scale: number;
  mean: number[];
  std: number[];
  resize: 'stretch' | 'crop';
  /** Input side when the graph leaves it open. */
  size: number;
  /** For 'crop': the shorter side before the centre crop, given the input height. */
  resizeTo?: (height: number) => number;
}

export const PRESETS: Record<PresetName, Preset> = {
  mnist: {
    about: "Caffe's MNIST LeNet: grey, p/256",
    channels: 1,
    channelOrder: 'RGB',
    scale: 1 / 256,
    mean: [0],
    std: [1],
    resize: 'stretch',
    size: 28,
  },
  'torch-mnist': {
    about: 'the usual PyTorch MNIST pipeline: grey, ToTensor (p/255) then Normalize((0.1307,), (0.3081,))',
    channels: 1,
    channelOrder: 'RGB',
    scale: 1 / 255,
    mean: [0.1307],
    std: [0.3081],
    resize: 'stretch',
    size: 28,
  },
  'caffe-imagenet': {
    about: 'Caffe ImageNet models (AlexNet, CaffeNet, GoogLeNet, SqueezeNet): BGR, 0..255 minus the mean pixel, shorter side 256 then centre crop',
    channels: 3,
    channelOrder: 'BGR',
    scale: 1,
    mean: [104, 117, 123],
    std: [1],
    resize: 'crop',
    size: 227,
    resizeTo: () => 256,
  },
  'tf-imagenet': {
    about: 'TensorFlow slim / Keras MobileNet and Inception: RGB, p/127.5 - 1, centre crop 87.5%',
    channels: 3,
    channelOrder: 'RGB',
    scale: 1 / 127.5,
    mean: [1],
    std: [1],
    resize: 'crop',
    size: 224,
    resizeTo: (h) => Math.round(h / 0.875),
  },
  'torch-imagenet': {
    about: 'torchvision / MXNet Gluon: RGB, p/255 normalised by the ImageNet mean and std, shorter side 256 then centre crop 224',
    channels: 3,
    channelOrder: 'RGB',
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    resize: 'crop',
    size: 224,
    resizeTo: (h) => Math.round(h / 0.875),
  },
};

/** The input size a preset assumes when the graph leaves it symbolic. */
export const PRESET_DEFAULT_SIDE = Object.fromEntries(Object.entries(PRESETS).map(([k, p]) => [k, p.size])) as Record<PresetName, number>;

/** The preset's input spec for a graph input `name` of the given layout and size. */
export function presetInput(preset: PresetName, g: { name: string; layout: 'NCHW' | 'NHWC'; height: number; width: number }): InputSpec {
  const p = PRESETS[preset];
  return {
    name: g.name,
    layout: g.layout,
    height: g.height,
    width: g.width,
    channels: p.channels,
    channelOrder: p.channelOrder,
    scale: p.scale,
    mean: [...p.mean],
    std: [...p.std],
    resize: p.resize,
    ...(p.resize === 'crop' && p.resizeTo ? { resizeTo: p.resizeTo(g.height) } : {}),
  };
}
