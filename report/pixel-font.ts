// A 5×7 bitmap font, drawn for this project, so that report PNGs can carry captions and a legend
// without a font file or a canvas library. Upper case, digits and the punctuation the captions use;
// lower case is drawn as upper case and anything else as a blank.

const GLYPHS: Record<string, string> = {
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  0: '.###. #...# #..## #.#.# ##..# #...# .###.',
  1: '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  2: '.###. #...# ....# ...#. ..#.. .#... #####',
  3: '####. ....# ....# .###. ....# ....# ####.',
  4: '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  5: '##### #.... ####. ....# ....# #...# .###.',
  6: '.###. #.... #.... ####. #...# #...# .###.',
  7: '##### ....# ...#. ..#.. .#... .#... .#...',
  8: '.###. #...# #...# .###. #...# #...# .###.',
  9: '.###. #...# #...# .#### ....# ....# .###.',
  ':': '..... ..#.. ..#.. ..... ..#.. ..#.. .....',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  '-': '..... ..... ..... .###. ..... ..... .....',
  '/': '....# ....# ...#. ..#.. .#... #.... #....',
  '%': '##..# ##..# ...#. ..#.. .#... #..## #..##',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
};

/** Advance per character and line height, in font pixels (a glyph plus one pixel of spacing). */
export const CELL_W = 6, CELL_H = 8;

export const textWidth = (text: string, px: number) => text.length * CELL_W * px;

/** Draws `text` into an RGBA canvas with its top-left at (x, y); each font pixel is px×px. Clips at the edges. */
export function drawText(rgba: Uint8Array, width: number, height: number, x: number, y: number, text: string,
  px: number, colour: readonly [number, number, number]): void {
  for (let i = 0; i < text.length; i++) {
    const glyph = GLYPHS[text[i].toUpperCase()];
    if (!glyph) continue;
    const rows = glyph.split(' ');
    for (let gy = 0; gy < 7; gy++)
      for (let gx = 0; gx < 5; gx++) {
        if (rows[gy][gx] !== '#') continue;
        for (let dy = 0; dy < px; dy++)
          for (let dx = 0; dx < px; dx++) {
            const X = x + (i * CELL_W + gx) * px + dx, Y = y + gy * px + dy;
            if (X < 0 || Y < 0 || X >= width || Y >= height) continue;
            const o = (Y * width + X) * 4;
            rgba[o] = colour[0]; rgba[o + 1] = colour[1]; rgba[o + 2] = colour[2]; rgba[o + 3] = 255;
          }
      }
  }
}
