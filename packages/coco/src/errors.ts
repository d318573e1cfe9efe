/** A COCO file or object that breaks the format; `where` names the file, the record's id and the field. */
export class CocoFormatError extends Error {
  override readonly name = 'CocoFormatError';
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
  }
}
