// edgeimg patch (see PATCHED.md at the top of this crate): the boolean
// decoder of bit_reader_inl_utils.h and bit_reader_utils.c (VP8LoadNewBytes,
// VP8LoadFinalBytes, VP8GetBit, VP8GetSigned) with its hot state in a local
// struct that the hot loops own. Only inlined functions see the struct's
// address, so the compiler keeps its fields in registers; through the
// VP8BitReader pointer clang's wasm32 code stored and reloaded them in
// linear memory around every bit (a byte store may alias them). Same
// arithmetic, same results.

#ifndef WEBP_UTILS_BIT_READER_LOCAL_INL_UTILS_H_
#define WEBP_UTILS_BIT_READER_LOCAL_INL_UTILS_H_

#include <string.h>
#include "src/utils/bit_reader_inl_utils.h"

// Always inlined: a call that is passed the struct's address would put it
// in linear memory.
#if defined(__GNUC__) || defined(__clang__)
#define LBR_INLINE static WEBP_INLINE __attribute__((always_inline))
#else
#define LBR_INLINE static WEBP_INLINE
#endif

// A VP8BitReader's value, range, bits and read position; the rest (buf_max,
// buf_end, eof) is read from the reader itself.
typedef struct {
  bit_t value;
  range_t range;
  int bits;
  const uint8_t* buf;
} LocalBR;

LBR_INLINE void LBRLoad(LocalBR* const L, const VP8BitReader* const br) {
  L->value = br->value; L->range = br->range; L->bits = br->bits; L->buf = br->buf;
}
LBR_INLINE void LBRStore(const LocalBR* const L, VP8BitReader* const br) {
  br->value = L->value; br->range = L->range; br->bits = L->bits; br->buf = L->buf;
}

LBR_INLINE void LLoadNewBytes(LocalBR* const L, VP8BitReader* const br) {
  if (L->buf < br->buf_max) {
    lbit_t in_bits;
    bit_t bits;
    memcpy(&in_bits, L->buf, sizeof(in_bits));
    L->buf += BITS >> 3;
#if (BITS > 32)
    bits = BSwap64(in_bits);
    bits >>= 64 - BITS;
#else
    bits = BSwap32(in_bits);
    bits >>= (32 - BITS);
#endif
    L->value = bits | (L->value << BITS);
    L->bits += BITS;
  } else if (L->buf < br->buf_end) {
    // The last bytes, one at a time, as VP8LoadFinalBytes reads them; written
    // out here, as a call in the hot loops made Cranelift keep the state in
    // stack slots.
    L->bits += 8;
    L->value = (bit_t)(*L->buf++) | (L->value << 8);
  } else if (!br->eof) {
    L->value <<= 8;
    L->bits += 8;
    br->eof = 1;
  } else {
    L->bits = 0;  // This is to avoid undefined behaviour with shifts.
  }
}

LBR_INLINE int LGetBit(LocalBR* const L, VP8BitReader* const br, int prob) {
  range_t range = L->range;
  if (L->bits < 0) LLoadNewBytes(L, br);
  {
    const int pos = L->bits;
    const range_t split = (range * prob) >> 8;
    const range_t value = (range_t)(L->value >> pos);
    const int bit = (value > split);
    if (bit) {
      range -= split;
      L->value -= (bit_t)(split + 1) << pos;
    } else {
      range = split + 1;
    }
    {
      const int shift = 7 ^ BitsLog2Floor(range);
      range <<= shift;
      L->bits -= shift;
    }
    L->range = range - 1;
    return bit;
  }
}

LBR_INLINE int LGetSigned(LocalBR* const L, VP8BitReader* const br, int v) {
  if (L->bits < 0) LLoadNewBytes(L, br);
  {
    const int pos = L->bits;
    const range_t split = L->range >> 1;
    const range_t value = (range_t)(L->value >> pos);
    const int32_t mask = (int32_t)(split - value) >> 31;  // -1 or 0
    L->bits -= 1;
    L->range += (range_t)mask;
    L->range |= 1;
    L->value -= (bit_t)((split + 1) & (uint32_t)mask) << pos;
    return (v ^ mask) - mask;
  }
}

#endif  // WEBP_UTILS_BIT_READER_LOCAL_INL_UTILS_H_
