// The sticker pack this client ships. hubbub hosts no sticker packs
// (docs/protocol.md): a sticker message carries a pack id and a sticker id,
// and each client draws the stickers of the packs it knows. A sticker of an
// unknown pack shows as its ids.

export const PACK_ID = "hubbub-basic";

export const STICKERS = [
  ["wave", "👋", "Waving hand"], ["thumbs", "👍", "Thumbs up"], ["heart", "💖", "Sparkling heart"],
  ["laugh", "🤣", "Rolling with laughter"], ["party", "🥳", "Party face"], ["coffee", "☕", "Coffee"],
  ["rocket", "🚀", "Rocket"], ["cat", "🐱", "Cat"],
];

const BY_ID = new Map(STICKERS.map(([id, glyph, name]) => [id, { glyph, name }]));

/** How to draw a sticker: `{glyph, name}`, or null for one of a pack we do not have. */
export function sticker(packId, stickerId) {
  return packId === PACK_ID ? BY_ID.get(stickerId) || null : null;
}
