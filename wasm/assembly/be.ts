// Big-endian helpers: every wire field goes through these.

// @ts-ignore: decorator
@inline export function getU16(p: usize): u32 {
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p + 1);
}

// @ts-ignore: decorator
@inline export function getU24(p: usize): u32 {
  return (<u32>load<u8>(p) << 16) | (<u32>load<u8>(p + 1) << 8) | <u32>load<u8>(p + 2);
}

// @ts-ignore: decorator
@inline export function getU32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

// @ts-ignore: decorator
@inline export function putU16(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >> 8));
  store<u8>(p + 1, <u8>v);
}

// @ts-ignore: decorator
@inline export function putU24(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >> 16));
  store<u8>(p + 1, <u8>(v >> 8));
  store<u8>(p + 2, <u8>v);
}

// @ts-ignore: decorator
@inline export function putU32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

/** Little-endian u32, the order RTMP uses for the message stream id in a type 0 header. */
// @ts-ignore: decorator
@inline export function getU32LE(p: usize): u32 {
  return load<u32>(p);
}

// @ts-ignore: decorator
@inline export function putU32LE(p: usize, v: u32): void {
  store<u32>(p, v);
}
