/** A tiny valid instances file: two images, two categories, a polygon, an RLE crowd and a box-only object. */
export interface LooseGt {
  images: { id: number; width: number; height: number; file_name?: string }[];
  categories: { id: number; name: string }[];
  annotations: {
    id: number;
    image_id: number;
    category_id: number;
    iscrowd: number;
    area?: number;
    bbox: number[];
    segmentation: unknown;
  }[];
}

export function tinyGt(): LooseGt {
  return {
    images: [
      { id: 0, width: 10, height: 8, file_name: 'a.jpg' },
      { id: 7, width: 6, height: 6, file_name: 'b.jpg' },
    ],
    categories: [
      { id: 3, name: 'cat' },
      { id: 1, name: 'dog' },
    ],
    annotations: [
      {
        id: 1,
        image_id: 0,
        category_id: 3,
        iscrowd: 0,
        area: 16,
        bbox: [1, 1, 4, 4],
        segmentation: [[1, 1, 5, 1, 5, 5, 1, 5]],
      },
      {
        id: 2,
        image_id: 0,
        category_id: 1,
        iscrowd: 1,
        area: 8,
        bbox: [6, 0, 2, 4],
        segmentation: { size: [8, 10], counts: [48, 4, 4, 4, 20] },
      },
      {
        id: 3,
        image_id: 7,
        category_id: 1,
        iscrowd: 0,
        area: 9,
        bbox: [0, 0, 3, 3],
        segmentation: [[0, 0, 3, 0, 3, 3, 0, 3]],
      },
    ],
  };
}
