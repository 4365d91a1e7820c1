import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FoolError } from '../../../shared/errors';
import { CatalogueEntrySchema, type CatalogueEntry, type PresetName } from '../../../shared/manifest';

export type { CatalogueEntry };

/**
 * Public ImageNet classifiers in ONNX that `fool models get NAME` downloads and registers. Each
 * file is pinned by size and SHA-256, read from the ONNX Model Zoo's Git LFS pointer file at the
 * commit in its URL (so the URL, size and hash always agree). The labels are ImageNet's 1000 classes
 * in the standard order (resources/labels).
 *
 * The manifests follow each model's Model Zoo README; none could be run here (no internet on the
 * machine this was built on), so each says `verified: false` and the self-check decides after the
 * download: when another preset or channel order scores clearly better on the check photos, that
 * one is used, and the command says so.
 */
const ZOO = 'https://github.com/onnx/models/raw';
const zoo = (commit: string, path: string) => `${ZOO}/${commit}/${path}`;
const zooSource = (commit: string, path: string) => `ONNX Model Zoo (github.com/onnx/models), ${path} at commit ${commit.slice(0, 12)}: Git LFS pointer`;
const UNVERIFIED = "manifest from the Model Zoo's README, not run here: the self-check decides after the download";

interface Pin {
  name: string;
  title: string;
  commit: string;
  path: string;
  bytes: number;
  sha256: string;
  preset: PresetName;
  licence: string;
  note?: string;
}

const PINS: Pin[] = [
  {
    name: 'alexnet',
    title: "AlexNet (BVLC reference, Caffe): the paper's ImageNet network",
    commit: '6ab957a2fe61f34a76c670946f7cbd806d2cacca',
    path: 'vision/classification/alexnet/model/bvlcalexnet-12.onnx',
    bytes: 243863787,
    sha256: '6b0da9510f27f234ee96a85dc3809dd210150fdefad87f6850f9788513216945',
    preset: 'caffe-imagenet',
    licence: 'BVLC model licence: unrestricted use (see the Model Zoo README)',
    note: 'the paper evolved images against this network (Caffe, 224x224 input in this export)',
  },
  {
    name: 'caffenet',
    title: 'CaffeNet (BVLC reference, Caffe): AlexNet with pooling before normalisation',
    commit: '4c46cd00fbdb7cd30b6c1c17ab54f2e1f4f7b177',
    path: 'validated/vision/classification/caffenet/model/caffenet-9.onnx',
    bytes: 243863553,
    sha256: '802138332cf3e423c82a9a80c76e4f9227dd4effb3aba55413601fa4345cfd36',
    preset: 'caffe-imagenet',
    licence: 'BVLC model licence: unrestricted use (see the Model Zoo README)',
  },
  {
    name: 'googlenet',
    title: 'GoogLeNet (BVLC, Caffe)',
    commit: '4c46cd00fbdb7cd30b6c1c17ab54f2e1f4f7b177',
    path: 'validated/vision/classification/inception_and_googlenet/googlenet/model/googlenet-7.onnx',
    bytes: 28020232,
    sha256: '5725ccfd90845735ce5897faf7843c3f9b13acda3c4f3bff82cb21c9337c9de8',
    preset: 'caffe-imagenet',
    licence: 'BVLC model licence: unrestricted use (see the Model Zoo README)',
  },
  {
    name: 'squeezenet1.0',
    title: 'SqueezeNet 1.0 (Caffe2)',
    commit: '4c46cd00fbdb7cd30b6c1c17ab54f2e1f4f7b177',
    path: 'validated/vision/classification/squeezenet/model/squeezenet1.0-8.onnx',
    bytes: 4952222,
    sha256: '3c0bff2f7c984350d3ffa98e0167dc08c15da88f05d0c31989ebeba6fbb5e025',
    preset: 'caffe-imagenet',
    licence: 'BSD-2-Clause (SqueezeNet)',
  },
  {
    name: 'squeezenet1.1',
    title: 'SqueezeNet 1.1 (MXNet Gluon)',
    commit: '96d633069ed74096408061accc3b728672802890',
    path: 'vision/classification/squeezenet/model/squeezenet1.1-7.onnx',
    bytes: 9165684,
    sha256: '9456373b67f04e4a9cb0bb9be984f0db2d0ad141582d84d4b4ad9e84f7ec7785',
    preset: 'torch-imagenet',
    licence: 'Apache-2.0 (MXNet Gluon model zoo)',
  },
  {
    name: 'vgg16',
    title: 'VGG-16 (MXNet Gluon)',
    commit: '13fcb614fdedcc09864c0691c080ccf82ca3b85b',
    path: 'vision/classification/vgg/model/vgg16-7.onnx',
    bytes: 553437328,
    sha256: 'f20805a3ecccaa88647bbab4ad011ff2412a9838485ea844de0fcbce349820b9',
    preset: 'torch-imagenet',
    licence: 'Apache-2.0 (MXNet Gluon model zoo)',
  },
  {
    name: 'resnet50-v1',
    title: 'ResNet-50 v1 (MXNet Gluon)',
    commit: '652f4e4af7975c8e7a505c4b6e0f8ac72d8260ea',
    path: 'vision/classification/resnet/model/resnet50-v1-12.onnx',
    bytes: 102576419,
    sha256: 'ab65bdc02c5b3123eb3cdf6dac01742438517d8635d4f233913b2be1c70db3b6',
    preset: 'torch-imagenet',
    licence: 'Apache-2.0 (MXNet Gluon model zoo)',
  },
  {
    name: 'resnet50-v2',
    title: 'ResNet-50 v2 (MXNet Gluon)',
    commit: 'b9a54e89508f101a1611cd64f4ef56b9cb62c7cf',
    path: 'vision/classification/resnet/model/resnet50-v2-7.onnx',
    bytes: 102442450,
    sha256: '1e80e8a7c8eec8e8b20c440d7dd7f2f8590779c7c2859dc4514870dc463845d3',
    preset: 'torch-imagenet',
    licence: 'Apache-2.0 (MXNet Gluon model zoo)',
  },
  {
    name: 'mobilenet-v2',
    title: 'MobileNet v2 1.0 (MXNet Gluon)',
    commit: '13fcb614fdedcc09864c0691c080ccf82ca3b85b',
    path: 'vision/classification/mobilenet/model/mobilenetv2-7.onnx',
    bytes: 14246826,
    sha256: 'c1c513582d56afceff8516c73804e484c81c6a830712ab6d682253f4a3cd042f',
    preset: 'torch-imagenet',
    licence: 'Apache-2.0 (MXNet Gluon model zoo)',
  },
];

export const BUILTIN_CATALOGUE: CatalogueEntry[] = PINS.map((p) => ({
  name: p.name,
  title: p.title,
  url: zoo(p.commit, p.path),
  bytes: p.bytes,
  sha256: p.sha256,
  preset: p.preset,
  labels: 'imagenet',
  verified: false,
  note: p.note ? `${p.note}; ${UNVERIFIED}` : UNVERIFIED,
  source: zooSource(p.commit, p.path),
  licence: p.licence,
}));

/**
 * The catalogue: the built-in entries, plus (replacing those of the same name) the entries of the
 * JSON file named by FOOL_CATALOGUE, for a mirror inside an offline network or a lab's own models.
 */
export function catalogue(): CatalogueEntry[] {
  const extra = process.env.FOOL_CATALOGUE;
  if (!extra) return BUILTIN_CATALOGUE;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(extra, 'utf8'));
  } catch (e) {
    throw new FoolError('BAD_INPUT', `FOOL_CATALOGUE=${extra} cannot be read as JSON: ${(e as Error).message}`, 'Point FOOL_CATALOGUE at a JSON list of catalogue entries, or unset it');
  }
  const r = z.array(CatalogueEntrySchema).safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FoolError('BAD_INPUT', `FOOL_CATALOGUE=${extra}: entry ${i.path.join('.')}: ${i.message}`, 'Each entry needs name, title, url, bytes, sha256, preset, labels, verified, source and licence (docs/models.md)');
  }
  const mine = new Set(r.data.map((e) => e.name));
  return [...BUILTIN_CATALOGUE.filter((e) => !mine.has(e.name)), ...r.data];
}

export function catalogueEntry(name: string): CatalogueEntry {
  const all = catalogue();
  const e = all.find((x) => x.name === name);
  if (!e) throw new FoolError('NOT_FOUND', `no model "${name}" in the catalogue`, `Available: ${all.map((x) => x.name).join(', ')} (fool models get --list)`);
  return e;
}
