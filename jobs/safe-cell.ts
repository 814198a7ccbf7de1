// Text a spreadsheet will not run (CSV and XLSX exports; OWASP "CSV injection"). Excel, LibreOffice and
// Google Sheets read a cell that starts with =, +, -, @, a tab or a carriage return as a formula, so a
// name a registry or an uploader published (`-2+3+cmd|' /C calc'!A0`) could run on a reader's machine.
// Such a cell is written with a leading apostrophe, the spreadsheets' own "this is text" mark, unless
// the whole cell is a plain number (`-12.5`, `1e3`), which a spreadsheet reads as that number.

const RUNNABLE = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function safeCell(text: string): string {
  return RUNNABLE.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

/** A value for a workbook cell: text made safe, anything else as it is. */
export const safeCellValue = <T>(value: T): T | string => (typeof value === 'string' ? safeCell(value) : value);
