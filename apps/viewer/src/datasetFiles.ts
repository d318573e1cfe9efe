import { CocoDataset } from '@deepmask/coco';
import { isImageFile } from './image.js';

/** An instances file with the image files picked alongside it, found by base name. */
export interface OpenedDataset {
  dataset: CocoDataset;
  jsonName: string;
  /** Every JSON file of the pick, so that another one can be chosen. */
  jsonFiles: File[];
  imageFiles: File[];
  imagesByName: Map<string, File>;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Opens the instances file of a pick (folder or files): `preferred`, else one naming "instances", else the first. */
export async function openDatasetFiles(files: File[], preferred?: string): Promise<OpenedDataset> {
  const jsonFiles = files.filter((file) => file.name.endsWith('.json'));
  if (jsonFiles.length === 0) {
    throw new Error(`no COCO instances .json among the ${files.length} files picked`);
  }
  const json =
    jsonFiles.find((file) => file.name === preferred) ??
    jsonFiles.find((file) => file.name.includes('instances')) ??
    jsonFiles[0];
  const dataset = CocoDataset.fromJson(await json.text(), json.name);
  const imageFiles = files.filter(isImageFile);
  const imagesByName = new Map(imageFiles.map((file) => [file.name, file] as const));
  return { dataset, jsonName: json.name, jsonFiles, imageFiles, imagesByName };
}

export function imageFileOf(opened: OpenedDataset, fileName: string | undefined): File | undefined {
  return fileName === undefined ? undefined : opened.imagesByName.get(baseName(fileName));
}
