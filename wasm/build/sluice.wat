(module
 (type $0 (func (param i32 i32) (result i32)))
 (type $1 (func (param i32) (result i32)))
 (type $2 (func (param i32 i32 i32) (result i32)))
 (type $3 (func (param i32 i32 i32 i32) (result i32)))
 (type $4 (func (param i32 i32 i32 i32 i32 f64) (result i32)))
 (type $5 (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (type $6 (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (type $7 (func (result i32)))
 (import "env" "memory" (memory $0 2))
 (global $wasm/assembly/nal_scan/bitPos (mut i32) (i32.const 0))
 (global $wasm/assembly/nal_scan/errReason (mut i32) (i32.const 0))
 (global $wasm/assembly/nal_scan/bitTotal (mut i32) (i32.const 0))
 (global $wasm/assembly/abi/ST_OK i32 (i32.const 0))
 (global $wasm/assembly/abi/ST_BAD_HEADER i32 (i32.const -1))
 (global $wasm/assembly/abi/ST_MESSAGE_TOO_LONG i32 (i32.const -2))
 (global $wasm/assembly/abi/ST_BAD_CHUNK_SIZE i32 (i32.const -3))
 (global $wasm/assembly/abi/ST_TOO_MANY_CHUNK_STREAMS i32 (i32.const -4))
 (global $wasm/assembly/abi/ST_INPUT_TOO_LONG i32 (i32.const -5))
 (global $wasm/assembly/abi/ST_OUTPUT_TOO_LONG i32 (i32.const -6))
 (global $wasm/assembly/abi/ST_BAD_BITSTREAM i32 (i32.const -7))
 (global $wasm/assembly/abi/ST_BAD_ARGUMENT i32 (i32.const -8))
 (global $wasm/assembly/abi/CONN_PAGES i32 (i32.const 2))
 (global $wasm/assembly/abi/CONN_STATE_PTR i32 (i32.const 1024))
 (global $wasm/assembly/abi/CONN_STATE_SIZE i32 (i32.const 7168))
 (global $wasm/assembly/abi/CONN_EVENTS_PTR i32 (i32.const 8192))
 (global $wasm/assembly/abi/EVENT_SIZE i32 (i32.const 32))
 (global $wasm/assembly/abi/CONN_EVENTS_CAP i32 (i32.const 768))
 (global $wasm/assembly/abi/CONN_INPUT_PTR i32 (i32.const 32768))
 (global $wasm/assembly/abi/CONN_INPUT_SIZE i32 (i32.const 98304))
 (global $wasm/assembly/abi/CONN_CARRY_SIZE i32 (i32.const 32))
 (global $wasm/assembly/abi/CONN_READ_PTR i32 (i32.const 32800))
 (global $wasm/assembly/abi/CODEC_PAGES i32 (i32.const 400))
 (global $wasm/assembly/abi/CODEC_SPANS_PTR i32 (i32.const 65536))
 (global $wasm/assembly/abi/CODEC_SPANS_CAP i32 (i32.const 122880))
 (global $wasm/assembly/abi/CODEC_IN_PTR i32 (i32.const 1048576))
 (global $wasm/assembly/abi/CODEC_IN_SIZE i32 (i32.const 9437184))
 (global $wasm/assembly/abi/CODEC_OUT_PTR i32 (i32.const 10485760))
 (global $wasm/assembly/abi/CODEC_OUT_SIZE i32 (i32.const 15728640))
 (global $wasm/assembly/abi/MAX_CHUNK_SIZE i32 (i32.const 16777215))
 (global $wasm/assembly/abi/MAX_MESSAGE_LENGTH i32 (i32.const 9437184))
 (global $wasm/assembly/abi/MAX_CHUNK_STREAMS i32 (i32.const 64))
 (global $wasm/assembly/abi/TS_MAX_PES_SIZE i32 (i32.const 12582912))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_SPAN i32 (i32.const 1))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_DISCARD i32 (i32.const 2))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_KIND_TYPE i32 (i32.const 0))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_CSID i32 (i32.const 1))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_STREAM_ID i32 (i32.const 2))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_TIMESTAMP i32 (i32.const 3))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_LENGTH i32 (i32.const 4))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_OFFSET i32 (i32.const 5))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_PTR i32 (i32.const 6))
 (global $wasm/assembly/chunk_parse/CHUNK_EV_SPAN_LENGTH i32 (i32.const 7))
 (global $wasm/assembly/chunk_parse/CHUNK_ERR_NO_PREVIOUS_HEADER i32 (i32.const 1))
 (global $wasm/assembly/chunk_parse/CHUNK_ERR_MESSAGE_IN_PROGRESS i32 (i32.const 2))
 (global $wasm/assembly/chunk_parse/CHUNK_ERR_MESSAGE_TOO_LONG i32 (i32.const 3))
 (global $wasm/assembly/chunk_parse/CHUNK_ERR_CHUNK_SIZE i32 (i32.const 4))
 (global $wasm/assembly/chunk_parse/CHUNK_ERR_SET_CHUNK_SIZE_SHORT i32 (i32.const 5))
 (global $wasm/assembly/chunk_parse/CHUNK_ERR_ABORT_SHORT i32 (i32.const 6))
 (global $wasm/assembly/chunk_parse/CHUNK_ERR_TOO_MANY_CHUNK_STREAMS i32 (i32.const 7))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_CHUNK_SIZE i32 (i32.const 1024))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_MORE i32 (i32.const 1040))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_ERR_REASON i32 (i32.const 1068))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_ERR_CSID i32 (i32.const 1072))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_ERR_VALUE i32 (i32.const 1076))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_ERR_LIMIT i32 (i32.const 1080))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_CARRY i32 (i32.const 1036))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_OPEN i32 (i32.const 1060))
 (global $wasm/assembly/chunk_parse/CHUNK_SLOTS_PTR i32 (i32.const 1088))
 (global $wasm/assembly/chunk_parse/CHUNK_SLOT_SIZE i32 (i32.const 48))
 (global $wasm/assembly/chunk_parse/CHUNK_STATE_USED i32 (i32.const 3136))
 (global $wasm/assembly/nal_scan/NAL_SCAN_VERSION i32 (i32.const 1))
 (global $wasm/assembly/flv_tag/FLV_TAG_VERSION i32 (i32.const 1))
 (global $wasm/assembly/flv_tag/FLV_TAG_OVERHEAD i32 (i32.const 15))
 (export "ST_OK" (global $wasm/assembly/abi/ST_OK))
 (export "ST_BAD_HEADER" (global $wasm/assembly/abi/ST_BAD_HEADER))
 (export "ST_MESSAGE_TOO_LONG" (global $wasm/assembly/abi/ST_MESSAGE_TOO_LONG))
 (export "ST_BAD_CHUNK_SIZE" (global $wasm/assembly/abi/ST_BAD_CHUNK_SIZE))
 (export "ST_TOO_MANY_CHUNK_STREAMS" (global $wasm/assembly/abi/ST_TOO_MANY_CHUNK_STREAMS))
 (export "ST_INPUT_TOO_LONG" (global $wasm/assembly/abi/ST_INPUT_TOO_LONG))
 (export "ST_OUTPUT_TOO_LONG" (global $wasm/assembly/abi/ST_OUTPUT_TOO_LONG))
 (export "ST_BAD_BITSTREAM" (global $wasm/assembly/abi/ST_BAD_BITSTREAM))
 (export "ST_BAD_ARGUMENT" (global $wasm/assembly/abi/ST_BAD_ARGUMENT))
 (export "CONN_PAGES" (global $wasm/assembly/abi/CONN_PAGES))
 (export "CONN_STATE_PTR" (global $wasm/assembly/abi/CONN_STATE_PTR))
 (export "CONN_STATE_SIZE" (global $wasm/assembly/abi/CONN_STATE_SIZE))
 (export "CONN_EVENTS_PTR" (global $wasm/assembly/abi/CONN_EVENTS_PTR))
 (export "EVENT_SIZE" (global $wasm/assembly/abi/EVENT_SIZE))
 (export "CONN_EVENTS_CAP" (global $wasm/assembly/abi/CONN_EVENTS_CAP))
 (export "CONN_INPUT_PTR" (global $wasm/assembly/abi/CONN_INPUT_PTR))
 (export "CONN_INPUT_SIZE" (global $wasm/assembly/abi/CONN_INPUT_SIZE))
 (export "CONN_CARRY_SIZE" (global $wasm/assembly/abi/CONN_CARRY_SIZE))
 (export "CONN_READ_PTR" (global $wasm/assembly/abi/CONN_READ_PTR))
 (export "CODEC_PAGES" (global $wasm/assembly/abi/CODEC_PAGES))
 (export "CODEC_SPANS_PTR" (global $wasm/assembly/abi/CODEC_SPANS_PTR))
 (export "CODEC_SPANS_CAP" (global $wasm/assembly/abi/CODEC_SPANS_CAP))
 (export "CODEC_IN_PTR" (global $wasm/assembly/abi/CODEC_IN_PTR))
 (export "CODEC_IN_SIZE" (global $wasm/assembly/abi/CODEC_IN_SIZE))
 (export "CODEC_OUT_PTR" (global $wasm/assembly/abi/CODEC_OUT_PTR))
 (export "CODEC_OUT_SIZE" (global $wasm/assembly/abi/CODEC_OUT_SIZE))
 (export "MAX_CHUNK_SIZE" (global $wasm/assembly/abi/MAX_CHUNK_SIZE))
 (export "MAX_MESSAGE_LENGTH" (global $wasm/assembly/abi/MAX_MESSAGE_LENGTH))
 (export "MAX_CHUNK_STREAMS" (global $wasm/assembly/abi/MAX_CHUNK_STREAMS))
 (export "TS_MAX_PES_SIZE" (global $wasm/assembly/abi/TS_MAX_PES_SIZE))
 (export "CHUNK_EV_SPAN" (global $wasm/assembly/chunk_parse/CHUNK_EV_SPAN))
 (export "CHUNK_EV_DISCARD" (global $wasm/assembly/chunk_parse/CHUNK_EV_DISCARD))
 (export "CHUNK_EV_KIND_TYPE" (global $wasm/assembly/chunk_parse/CHUNK_EV_KIND_TYPE))
 (export "CHUNK_EV_CSID" (global $wasm/assembly/chunk_parse/CHUNK_EV_CSID))
 (export "CHUNK_EV_STREAM_ID" (global $wasm/assembly/chunk_parse/CHUNK_EV_STREAM_ID))
 (export "CHUNK_EV_TIMESTAMP" (global $wasm/assembly/chunk_parse/CHUNK_EV_TIMESTAMP))
 (export "CHUNK_EV_LENGTH" (global $wasm/assembly/chunk_parse/CHUNK_EV_LENGTH))
 (export "CHUNK_EV_OFFSET" (global $wasm/assembly/chunk_parse/CHUNK_EV_OFFSET))
 (export "CHUNK_EV_PTR" (global $wasm/assembly/chunk_parse/CHUNK_EV_PTR))
 (export "CHUNK_EV_SPAN_LENGTH" (global $wasm/assembly/chunk_parse/CHUNK_EV_SPAN_LENGTH))
 (export "CHUNK_ERR_NO_PREVIOUS_HEADER" (global $wasm/assembly/chunk_parse/CHUNK_ERR_NO_PREVIOUS_HEADER))
 (export "CHUNK_ERR_MESSAGE_IN_PROGRESS" (global $wasm/assembly/chunk_parse/CHUNK_ERR_MESSAGE_IN_PROGRESS))
 (export "CHUNK_ERR_MESSAGE_TOO_LONG" (global $wasm/assembly/chunk_parse/CHUNK_ERR_MESSAGE_TOO_LONG))
 (export "CHUNK_ERR_CHUNK_SIZE" (global $wasm/assembly/chunk_parse/CHUNK_ERR_CHUNK_SIZE))
 (export "CHUNK_ERR_SET_CHUNK_SIZE_SHORT" (global $wasm/assembly/chunk_parse/CHUNK_ERR_SET_CHUNK_SIZE_SHORT))
 (export "CHUNK_ERR_ABORT_SHORT" (global $wasm/assembly/chunk_parse/CHUNK_ERR_ABORT_SHORT))
 (export "CHUNK_ERR_TOO_MANY_CHUNK_STREAMS" (global $wasm/assembly/chunk_parse/CHUNK_ERR_TOO_MANY_CHUNK_STREAMS))
 (export "CHUNK_STATE_CHUNK_SIZE" (global $wasm/assembly/chunk_parse/CHUNK_STATE_CHUNK_SIZE))
 (export "CHUNK_STATE_MORE" (global $wasm/assembly/chunk_parse/CHUNK_STATE_MORE))
 (export "CHUNK_STATE_ERR_REASON" (global $wasm/assembly/chunk_parse/CHUNK_STATE_ERR_REASON))
 (export "CHUNK_STATE_ERR_CSID" (global $wasm/assembly/chunk_parse/CHUNK_STATE_ERR_CSID))
 (export "CHUNK_STATE_ERR_VALUE" (global $wasm/assembly/chunk_parse/CHUNK_STATE_ERR_VALUE))
 (export "CHUNK_STATE_ERR_LIMIT" (global $wasm/assembly/chunk_parse/CHUNK_STATE_ERR_LIMIT))
 (export "CHUNK_STATE_CARRY" (global $wasm/assembly/chunk_parse/CHUNK_STATE_CARRY))
 (export "CHUNK_STATE_OPEN" (global $wasm/assembly/chunk_parse/CHUNK_STATE_OPEN))
 (export "CHUNK_SLOTS_PTR" (global $wasm/assembly/chunk_parse/CHUNK_SLOTS_PTR))
 (export "CHUNK_SLOT_SIZE" (global $wasm/assembly/chunk_parse/CHUNK_SLOT_SIZE))
 (export "CHUNK_STATE_USED" (global $wasm/assembly/chunk_parse/CHUNK_STATE_USED))
 (export "chunkInit" (func $wasm/assembly/chunk_parse/chunkInit))
 (export "chunkParse" (func $wasm/assembly/chunk_parse/chunkParse))
 (export "chunkResume" (func $wasm/assembly/chunk_parse/chunkResume))
 (export "chunkEncode" (func $wasm/assembly/chunk_write/chunkEncode))
 (export "NAL_SCAN_VERSION" (global $wasm/assembly/nal_scan/NAL_SCAN_VERSION))
 (export "nalScan" (func $wasm/assembly/nal_scan/nalScan))
 (export "annexBToAvcc" (func $wasm/assembly/nal_scan/annexBToAvcc))
 (export "avccToAnnexB" (func $wasm/assembly/nal_scan/avccToAnnexB))
 (export "parseSps" (func $wasm/assembly/nal_scan/parseSps))
 (export "FLV_TAG_VERSION" (global $wasm/assembly/flv_tag/FLV_TAG_VERSION))
 (export "FLV_TAG_OVERHEAD" (global $wasm/assembly/flv_tag/FLV_TAG_OVERHEAD))
 (export "flvFileHeader" (func $wasm/assembly/flv_tag/flvFileHeader))
 (export "flvTagWrap" (func $wasm/assembly/flv_tag/flvTagWrap))
 (export "flvTagWraps" (func $wasm/assembly/flv_tag/flvTagWraps))
 (export "tsPacketize" (func $wasm/assembly/ts_packet/tsPacketize))
 (export "rtpPacketizeNals" (func $wasm/assembly/rtp_packet/rtpPacketizeNals))
 (export "memory" (memory $0))
 (func $wasm/assembly/nal_scan/u (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  global.get $wasm/assembly/nal_scan/errReason
  if
   i32.const 0
   return
  end
  global.get $wasm/assembly/nal_scan/bitTotal
  global.get $wasm/assembly/nal_scan/bitPos
  local.get $0
  i32.add
  i32.lt_u
  if
   global.get $wasm/assembly/nal_scan/errReason
   i32.eqz
   if
    i32.const 1
    global.set $wasm/assembly/nal_scan/errReason
    i32.const 65536
    i32.const 1
    i32.store
    i32.const 65540
    local.get $1
    i32.store
    i32.const 65544
    global.get $wasm/assembly/nal_scan/bitPos
    i32.store
    i32.const 65548
    global.get $wasm/assembly/nal_scan/bitTotal
    i32.store
   end
   i32.const 0
   return
  end
  i32.const 0
  local.set $1
  loop $for-loop|0
   local.get $0
   local.get $2
   i32.gt_u
   if
    global.get $wasm/assembly/nal_scan/bitPos
    i32.const 3
    i32.shr_u
    i32.const 10485760
    i32.add
    i32.load8_u
    i32.const 7
    global.get $wasm/assembly/nal_scan/bitPos
    i32.const 7
    i32.and
    i32.sub
    i32.shr_u
    i32.const 1
    i32.and
    local.set $3
    global.get $wasm/assembly/nal_scan/bitPos
    i32.const 1
    i32.add
    global.set $wasm/assembly/nal_scan/bitPos
    local.get $1
    i32.const 1
    i32.shl
    local.get $3
    i32.or
    local.set $1
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|0
   end
  end
  local.get $1
 )
 (func $wasm/assembly/nal_scan/ueMax (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  local.get $0
  call $wasm/assembly/nal_scan/ue
  local.tee $2
  local.get $1
  i32.gt_u
  if
   global.get $wasm/assembly/nal_scan/errReason
   i32.eqz
   if
    i32.const 2
    global.set $wasm/assembly/nal_scan/errReason
    i32.const 65536
    i32.const 2
    i32.store
    i32.const 65540
    local.get $0
    i32.store
    i32.const 65544
    local.get $2
    i32.store
    i32.const 65548
    local.get $1
    i32.store
   end
   i32.const 0
   return
  end
  local.get $2
 )
 (func $wasm/assembly/nal_scan/ue (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  global.get $wasm/assembly/nal_scan/errReason
  if
   i32.const 0
   return
  end
  global.get $wasm/assembly/nal_scan/bitPos
  local.set $3
  block $folding-inner1 (result i32)
   block $folding-inner0
    loop $while-continue|0
     block $while-break|0
      global.get $wasm/assembly/nal_scan/bitPos
      global.get $wasm/assembly/nal_scan/bitTotal
      i32.ge_u
      br_if $folding-inner0
      global.get $wasm/assembly/nal_scan/bitPos
      i32.const 3
      i32.shr_u
      i32.const 10485760
      i32.add
      i32.load8_u
      i32.const 7
      global.get $wasm/assembly/nal_scan/bitPos
      i32.const 7
      i32.and
      i32.sub
      i32.shr_u
      i32.const 1
      i32.and
      global.get $wasm/assembly/nal_scan/bitPos
      i32.const 1
      i32.add
      global.set $wasm/assembly/nal_scan/bitPos
      br_if $while-break|0
      local.get $1
      i32.const 1
      i32.add
      local.tee $1
      i32.const 31
      i32.le_u
      br_if $while-continue|0
      i32.const 3
      br $folding-inner1
     end
    end
    global.get $wasm/assembly/nal_scan/bitTotal
    global.get $wasm/assembly/nal_scan/bitPos
    local.get $1
    i32.add
    i32.lt_u
    br_if $folding-inner0
    i32.const 0
    local.set $0
    loop $for-loop|1
     local.get $1
     local.get $2
     i32.gt_u
     if
      global.get $wasm/assembly/nal_scan/bitPos
      i32.const 3
      i32.shr_u
      i32.const 10485760
      i32.add
      i32.load8_u
      i32.const 7
      global.get $wasm/assembly/nal_scan/bitPos
      i32.const 7
      i32.and
      i32.sub
      i32.shr_u
      i32.const 1
      i32.and
      local.set $3
      global.get $wasm/assembly/nal_scan/bitPos
      i32.const 1
      i32.add
      global.set $wasm/assembly/nal_scan/bitPos
      local.get $0
      i32.const 1
      i32.shl
      local.get $3
      i32.or
      local.set $0
      local.get $2
      i32.const 1
      i32.add
      local.set $2
      br $for-loop|1
     end
    end
    i32.const 1
    local.get $1
    i32.shl
    i32.const 1
    i32.sub
    local.get $0
    i32.add
    return
   end
   global.get $wasm/assembly/nal_scan/bitTotal
   local.set $2
   i32.const 1
  end
  local.set $1
  global.get $wasm/assembly/nal_scan/errReason
  i32.eqz
  if
   local.get $1
   global.set $wasm/assembly/nal_scan/errReason
   i32.const 65536
   local.get $1
   i32.store
   i32.const 65540
   local.get $0
   i32.store
   i32.const 65544
   local.get $3
   i32.store
   i32.const 65548
   local.get $2
   i32.store
  end
  i32.const 0
 )
 (func $wasm/assembly/nal_scan/se (param $0 i32) (result i32)
  (local $1 i32)
  local.get $0
  call $wasm/assembly/nal_scan/ue
  local.tee $0
  i32.const 1
  i32.shr_u
  local.tee $1
  i32.const 1
  i32.add
  i32.const 0
  local.get $1
  i32.sub
  local.get $0
  i32.const 1
  i32.and
  select
 )
 (func $wasm/assembly/nal_scan/findStartCode (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 v128)
  (local $7 v128)
  (local $8 v128)
  (local $9 v128)
  (local $10 i32)
  local.get $1
  local.set $3
  loop $while-continue|0
   local.get $3
   i32.const 65
   i32.add
   local.get $2
   i32.le_s
   if
    local.get $0
    local.get $3
    i32.add
    local.tee $1
    v128.load
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    local.get $1
    v128.load offset=1
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    v128.and
    local.tee $6
    local.get $1
    v128.load offset=16
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    local.get $1
    v128.load offset=17
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    v128.and
    local.tee $7
    v128.or
    local.get $1
    v128.load offset=32
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    local.get $1
    v128.load offset=33
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    v128.and
    local.tee $8
    local.get $1
    v128.load offset=48
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    local.get $1
    v128.load offset=49
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    v128.and
    local.tee $9
    v128.or
    v128.or
    v128.any_true
    if
     local.get $6
     i8x16.bitmask
     local.set $5
     i32.const -1
     local.set $1
     loop $while-continue|1
      local.get $5
      if
       block $while-break|1
        local.get $3
        local.get $5
        i32.ctz
        i32.add
        local.tee $4
        i32.const 2
        i32.add
        local.get $2
        i32.lt_s
        if (result i32)
         local.get $0
         local.get $4
         i32.add
         i32.load8_u offset=2
         i32.const 1
         i32.eq
        else
         i32.const 0
        end
        if
         local.get $4
         local.set $1
         br $while-break|1
        end
        local.get $5
        local.get $5
        i32.const 1
        i32.sub
        i32.and
        local.set $5
        br $while-continue|1
       end
      end
     end
     local.get $1
     i32.const 0
     i32.lt_s
     if
      local.get $3
      i32.const 16
      i32.add
      local.set $10
      local.get $7
      i8x16.bitmask
      local.set $5
      i32.const -1
      local.set $1
      loop $while-continue|2
       local.get $5
       if
        block $while-break|2
         local.get $10
         local.get $5
         i32.ctz
         i32.add
         local.tee $4
         i32.const 2
         i32.add
         local.get $2
         i32.lt_s
         if (result i32)
          local.get $0
          local.get $4
          i32.add
          i32.load8_u offset=2
          i32.const 1
          i32.eq
         else
          i32.const 0
         end
         if
          local.get $4
          local.set $1
          br $while-break|2
         end
         local.get $5
         local.get $5
         i32.const 1
         i32.sub
         i32.and
         local.set $5
         br $while-continue|2
        end
       end
      end
     end
     local.get $1
     i32.const 0
     i32.lt_s
     if
      local.get $3
      i32.const 32
      i32.add
      local.set $10
      local.get $8
      i8x16.bitmask
      local.set $5
      i32.const -1
      local.set $1
      loop $while-continue|3
       local.get $5
       if
        block $while-break|3
         local.get $10
         local.get $5
         i32.ctz
         i32.add
         local.tee $4
         i32.const 2
         i32.add
         local.get $2
         i32.lt_s
         if (result i32)
          local.get $0
          local.get $4
          i32.add
          i32.load8_u offset=2
          i32.const 1
          i32.eq
         else
          i32.const 0
         end
         if
          local.get $4
          local.set $1
          br $while-break|3
         end
         local.get $5
         local.get $5
         i32.const 1
         i32.sub
         i32.and
         local.set $5
         br $while-continue|3
        end
       end
      end
     end
     local.get $1
     i32.const 0
     i32.lt_s
     if
      local.get $3
      i32.const 48
      i32.add
      local.set $10
      local.get $9
      i8x16.bitmask
      local.set $5
      i32.const -1
      local.set $1
      loop $while-continue|4
       local.get $5
       if
        block $while-break|4
         local.get $10
         local.get $5
         i32.ctz
         i32.add
         local.tee $4
         i32.const 2
         i32.add
         local.get $2
         i32.lt_s
         if (result i32)
          local.get $0
          local.get $4
          i32.add
          i32.load8_u offset=2
          i32.const 1
          i32.eq
         else
          i32.const 0
         end
         if
          local.get $4
          local.set $1
          br $while-break|4
         end
         local.get $5
         local.get $5
         i32.const 1
         i32.sub
         i32.and
         local.set $5
         br $while-continue|4
        end
       end
      end
     end
     local.get $1
     i32.const 0
     i32.ge_s
     if
      local.get $1
      return
     end
    end
    local.get $3
    i32.const -64
    i32.sub
    local.set $3
    br $while-continue|0
   end
  end
  loop $while-continue|5
   local.get $3
   i32.const 17
   i32.add
   local.get $2
   i32.le_s
   if
    local.get $0
    local.get $3
    i32.add
    local.tee $1
    v128.load
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    local.get $1
    v128.load offset=1
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.eq
    v128.and
    i8x16.bitmask
    local.set $5
    i32.const -1
    local.set $1
    loop $while-continue|6
     local.get $5
     if
      block $while-break|6
       local.get $3
       local.get $5
       i32.ctz
       i32.add
       local.tee $4
       i32.const 2
       i32.add
       local.get $2
       i32.lt_s
       if (result i32)
        local.get $0
        local.get $4
        i32.add
        i32.load8_u offset=2
        i32.const 1
        i32.eq
       else
        i32.const 0
       end
       if
        local.get $4
        local.set $1
        br $while-break|6
       end
       local.get $5
       local.get $5
       i32.const 1
       i32.sub
       i32.and
       local.set $5
       br $while-continue|6
      end
     end
    end
    local.get $1
    i32.const 0
    i32.ge_s
    if
     local.get $1
     return
    end
    local.get $3
    i32.const 16
    i32.add
    local.set $3
    br $while-continue|5
   end
  end
  loop $while-continue|7
   local.get $3
   i32.const 2
   i32.add
   local.get $2
   i32.lt_s
   if
    local.get $0
    local.get $3
    i32.add
    local.tee $1
    i32.load8_u
    if (result i32)
     i32.const 1
    else
     local.get $1
     i32.load8_u offset=1
    end
    if (result i32)
     i32.const 0
    else
     local.get $1
     i32.load8_u offset=2
     i32.const 1
     i32.eq
    end
    if
     local.get $3
     return
    end
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $while-continue|7
   end
  end
  i32.const -1
 )
 (func $wasm/assembly/chunk_parse/run (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  local.get $0
  local.set $6
  i32.const 1052
  i32.load
  local.set $0
  i32.const 1056
  i32.load
  local.set $14
  i32.const 1040
  i32.const 0
  i32.store
  loop $while-continue|0
   block $while-break|0
    local.get $11
    i32.const 766
    i32.gt_s
    if
     i32.const 1052
     local.get $0
     i32.store
     i32.const 1056
     local.get $14
     i32.store
     i32.const 1040
     i32.const 1
     i32.store
     i32.const 1044
     local.get $6
     i32.store
     i32.const 1048
     local.get $1
     i32.store
     local.get $11
     return
    end
    local.get $1
    local.get $6
    i32.sub
    local.set $4
    local.get $14
    i32.const 0
    i32.gt_s
    if
     local.get $4
     i32.eqz
     br_if $while-break|0
     local.get $0
     local.get $6
     local.get $14
     local.get $4
     local.get $4
     local.get $14
     i32.gt_s
     select
     local.tee $2
     local.get $11
     call $wasm/assembly/chunk_parse/emitSpan
     local.set $11
     local.get $2
     local.get $6
     i32.add
     local.set $6
     local.get $14
     local.get $2
     i32.sub
     local.tee $14
     if (result i32)
      i32.const 0
     else
      local.get $0
      i32.load offset=24
      local.get $0
      i32.load offset=12
      i32.eq
     end
     if
      local.get $0
      local.get $11
      call $wasm/assembly/chunk_parse/complete
      local.tee $11
      i32.const 0
      i32.lt_s
      if
       local.get $11
       return
      end
     end
     br $while-continue|0
    end
    local.get $4
    i32.const 0
    i32.le_s
    br_if $while-break|0
    local.get $6
    i32.load8_u
    local.tee $2
    i32.const 6
    i32.shr_u
    local.set $12
    i32.const 1
    local.set $13
    local.get $2
    i32.const 63
    i32.and
    local.tee $2
    i32.const 2
    i32.lt_u
    if
     local.get $4
     local.get $2
     i32.const 2
     i32.add
     local.tee $13
     i32.lt_s
     br_if $while-break|0
     local.get $6
     i32.load8_u offset=1
     i32.const -64
     i32.sub
     local.set $2
     local.get $13
     i32.const 3
     i32.eq
     if
      local.get $2
      local.get $6
      i32.load8_u offset=2
      i32.const 8
      i32.shl
      i32.add
      local.set $2
     end
    end
    local.get $4
    i32.const 198411
    local.get $12
    i32.const 3
    i32.shl
    i32.shr_u
    i32.const 255
    i32.and
    local.tee $10
    local.get $13
    i32.add
    i32.lt_s
    br_if $while-break|0
    i32.const 1088
    local.set $5
    i32.const 1060
    i32.load
    i32.const 48
    i32.mul
    i32.const 1088
    i32.add
    local.set $3
    block $__inlined_func$wasm/assembly/chunk_parse/findSlot$6
     loop $while-continue|01
      local.get $3
      local.get $5
      i32.gt_u
      if
       local.get $5
       i32.load
       local.get $2
       i32.eq
       br_if $__inlined_func$wasm/assembly/chunk_parse/findSlot$6
       local.get $5
       i32.const 48
       i32.add
       local.set $5
       br $while-continue|01
      end
     end
     i32.const 0
     local.set $5
    end
    local.get $5
    i32.eqz
    local.get $12
    i32.const 0
    i32.ne
    i32.and
    if
     i32.const 1064
     i32.const -1
     i32.store
     i32.const 1068
     i32.const 1
     i32.store
     i32.const 1072
     local.get $2
     i32.store
     i32.const 1076
     local.get $12
     i32.store
     i32.const 1080
     i32.const 0
     i32.store
     i32.const -1
     return
    end
    local.get $6
    local.get $13
    i32.add
    local.set $8
    local.get $12
    i32.const 3
    i32.lt_u
    if (result i32)
     local.get $8
     i32.load8_u offset=2
     local.get $8
     i32.load8_u
     i32.const 16
     i32.shl
     local.get $8
     i32.load8_u offset=1
     i32.const 8
     i32.shl
     i32.or
     i32.or
    else
     i32.const 0
    end
    local.set $3
    local.get $4
    local.get $10
    local.get $13
    i32.add
    i32.const 4
    i32.const 0
    local.get $12
    i32.const 3
    i32.lt_u
    if (result i32)
     local.get $3
     i32.const 16777215
     i32.eq
    else
     local.get $5
     i32.load offset=28
     i32.const 1
     i32.and
    end
    local.tee $7
    select
    i32.add
    local.tee $9
    i32.lt_s
    br_if $while-break|0
    local.get $5
    i32.const 0
    i32.ne
    local.tee $4
    if
     local.get $5
     i32.load offset=28
     i32.const 2
     i32.and
     i32.const 0
     i32.ne
     local.set $4
    end
    local.get $12
    i32.const 3
    i32.ne
    local.get $4
    i32.and
    if
     local.get $5
     i32.load offset=24
     local.set $1
     local.get $5
     i32.load offset=12
     local.set $0
     i32.const 1064
     i32.const -1
     i32.store
     i32.const 1068
     i32.const 2
     i32.store
     i32.const 1072
     local.get $2
     i32.store
     i32.const 1076
     local.get $1
     i32.store
     i32.const 1080
     local.get $0
     i32.store
     i32.const -1
     return
    end
    i32.const 0
    local.set $13
    local.get $12
    i32.const 1
    i32.le_u
    if
     local.get $8
     i32.load8_u offset=5
     local.get $8
     i32.load8_u offset=3
     i32.const 16
     i32.shl
     local.get $8
     i32.load8_u offset=4
     i32.const 8
     i32.shl
     i32.or
     i32.or
     local.tee $13
     i32.const 1028
     i32.load
     local.tee $0
     i32.gt_s
     if
      i32.const 1064
      i32.const -2
      i32.store
      i32.const 1068
      i32.const 3
      i32.store
      i32.const 1072
      local.get $2
      i32.store
      i32.const 1076
      local.get $13
      i32.store
      i32.const 1080
      local.get $0
      i32.store
      i32.const -2
      return
     end
    end
    local.get $5
    local.tee $0
    i32.eqz
    if
     i32.const 1060
     i32.load
     local.tee $0
     i32.const 64
     i32.ge_s
     if
      i32.const 1064
      i32.const -4
      i32.store
      i32.const 1068
      i32.const 7
      i32.store
      i32.const 1072
      local.get $2
      i32.store
      i32.const 1076
      local.get $2
      i32.store
      i32.const 1080
      i32.const 64
      i32.store
      i32.const -4
      return
     end
     i32.const 1060
     local.get $0
     i32.const 1
     i32.add
     i32.store
     local.get $0
     i32.const 48
     i32.mul
     i32.const 1088
     i32.add
     local.tee $0
     local.get $2
     i32.store
    end
    local.get $7
    if
     local.get $8
     local.get $10
     i32.add
     i32.load
     local.tee $2
     i32.const -16711936
     i32.and
     i32.const 8
     i32.rotl
     local.get $2
     i32.const 16711935
     i32.and
     i32.const 8
     i32.rotr
     i32.or
     local.set $3
    end
    local.get $0
    i32.load offset=28
    local.set $2
    local.get $12
    i32.const 3
    i32.lt_u
    if
     local.get $2
     i32.const 1
     i32.or
     local.get $2
     i32.const -2
     i32.and
     local.get $7
     select
     local.set $2
    end
    local.get $12
    if
     local.get $12
     i32.const 3
     i32.lt_u
     if
      local.get $0
      local.get $0
      i32.load offset=4
      local.get $3
      i32.add
      i32.store offset=4
      local.get $0
      local.get $3
      i32.store offset=8
      local.get $12
      i32.const 1
      i32.eq
      if
       local.get $0
       local.get $13
       i32.store offset=12
       local.get $0
       local.get $8
       i32.load8_u offset=6
       i32.store offset=16
      end
     else
      local.get $4
      i32.eqz
      if
       local.get $0
       local.get $0
       i32.load offset=4
       local.get $0
       i32.load offset=8
       i32.add
       i32.store offset=4
      end
     end
    else
     local.get $0
     local.get $3
     i32.store offset=4
     local.get $0
     i32.const 0
     i32.store offset=8
     local.get $0
     local.get $13
     i32.store offset=12
     local.get $0
     local.get $8
     i32.load8_u offset=6
     i32.store offset=16
     local.get $0
     local.get $8
     i32.load offset=7
     i32.store offset=20
    end
    local.get $0
    local.get $4
    if (result i32)
     local.get $2
    else
     local.get $0
     i32.const 0
     i32.store offset=24
     local.get $2
     i32.const 2
     i32.or
    end
    i32.store offset=28
    local.get $6
    local.get $9
    i32.add
    local.set $6
    i32.const 1024
    i32.load
    local.tee $3
    local.get $0
    i32.load offset=12
    local.get $0
    i32.load offset=24
    i32.sub
    local.tee $2
    local.get $2
    local.get $3
    i32.gt_s
    select
    local.tee $14
    i32.eqz
    if
     local.get $0
     local.get $0
     local.get $6
     i32.const 0
     local.get $11
     call $wasm/assembly/chunk_parse/emitSpan
     call $wasm/assembly/chunk_parse/complete
     local.tee $11
     i32.const 0
     i32.lt_s
     if
      local.get $11
      return
     end
    end
    br $while-continue|0
   end
  end
  local.get $1
  local.get $6
  i32.sub
  local.tee $1
  if
   i32.const 32800
   local.get $1
   i32.sub
   local.get $6
   local.get $1
   memory.copy
  end
  i32.const 1036
  local.get $1
  i32.store
  i32.const 1052
  local.get $0
  i32.store
  i32.const 1056
  local.get $14
  i32.store
  local.get $11
 )
 (func $wasm/assembly/chunk_parse/emitSpan (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (result i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  local.get $0
  i32.load offset=16
  local.set $6
  local.get $0
  i32.load offset=24
  local.tee $5
  i32.const 4
  i32.lt_s
  if (result i32)
   local.get $6
   i32.const 2
   i32.eq
   local.get $6
   i32.const 1
   i32.eq
   i32.or
  else
   i32.const 0
  end
  if
   i32.const 4
   local.get $5
   i32.sub
   local.tee $7
   local.get $2
   local.get $2
   local.get $7
   i32.gt_s
   select
   local.set $7
   loop $for-loop|0
    local.get $4
    local.get $7
    i32.lt_s
    if
     local.get $0
     i32.const 32
     i32.add
     local.get $4
     local.get $5
     i32.add
     i32.add
     local.get $1
     local.get $4
     i32.add
     i32.load8_u
     i32.store8
     local.get $4
     i32.const 1
     i32.add
     local.set $4
     br $for-loop|0
    end
   end
  end
  local.get $0
  local.get $2
  local.get $5
  i32.add
  i32.store offset=24
  local.get $0
  i32.load
  local.set $7
  local.get $5
  i32.const 0
  i32.gt_s
  local.get $3
  i32.const 0
  i32.gt_s
  i32.and
  if
   local.get $3
   i32.const 5
   i32.shl
   i32.const 8160
   i32.add
   local.tee $8
   i32.load offset=28
   local.set $4
   local.get $8
   i32.load
   i32.const 255
   i32.and
   i32.const 1
   i32.eq
   if (result i32)
    local.get $8
    i32.load offset=4
    local.get $7
    i32.eq
   else
    i32.const 0
   end
   if (result i32)
    local.get $8
    i32.load offset=20
    local.get $4
    i32.add
    local.get $5
    i32.eq
   else
    i32.const 0
   end
   if
    local.get $8
    i32.load offset=24
    local.get $4
    i32.add
    local.get $1
    local.get $2
    memory.copy
    local.get $8
    local.get $2
    local.get $4
    i32.add
    i32.store offset=28
    local.get $3
    return
   end
  end
  local.get $3
  i32.const 5
  i32.shl
  i32.const -8192
  i32.sub
  local.tee $4
  local.get $6
  i32.const 8
  i32.shl
  i32.const 1
  i32.or
  i32.store
  local.get $4
  local.get $7
  i32.store offset=4
  local.get $4
  local.get $0
  i32.load offset=20
  i32.store offset=8
  local.get $4
  local.get $0
  i32.load offset=4
  i32.store offset=12
  local.get $4
  local.get $0
  i32.load offset=12
  i32.store offset=16
  local.get $4
  local.get $5
  i32.store offset=20
  local.get $4
  local.get $1
  i32.store offset=24
  local.get $4
  local.get $2
  i32.store offset=28
  local.get $3
  i32.const 1
  i32.add
 )
 (func $wasm/assembly/chunk_parse/complete (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  local.get $0
  local.get $0
  i32.load offset=28
  i32.const -3
  i32.and
  i32.store offset=28
  local.get $0
  i32.load offset=16
  local.tee $3
  i32.const 2
  i32.ne
  local.get $3
  i32.const 1
  i32.ne
  i32.and
  if
   local.get $1
   return
  end
  local.get $0
  i32.load
  local.set $4
  local.get $0
  i32.load offset=12
  local.set $2
  block $folding-inner0
   local.get $3
   i32.const 1
   i32.eq
   if
    local.get $2
    i32.const 4
    i32.lt_s
    if
     i32.const -3
     local.set $0
     i32.const 1064
     i32.const -3
     i32.store
     i32.const 1068
     i32.const 5
     i32.store
     br $folding-inner0
    end
    local.get $0
    i32.load offset=32
    local.tee $0
    i32.const -16711936
    i32.and
    i32.const 8
    i32.rotl
    local.get $0
    i32.const 16711935
    i32.and
    i32.const 8
    i32.rotr
    i32.or
    local.tee $0
    i32.eqz
    i32.const 1032
    i32.load
    local.tee $2
    local.get $0
    i32.lt_u
    i32.or
    if
     i32.const 1064
     i32.const -3
     i32.store
     i32.const 1068
     i32.const 4
     i32.store
     i32.const 1072
     local.get $4
     i32.store
     i32.const 1076
     local.get $0
     i32.store
     i32.const 1080
     local.get $2
     i32.store
     i32.const -3
     return
    end
    i32.const 1024
    local.get $0
    i32.store
    local.get $1
    return
   end
   local.get $2
   i32.const 4
   i32.lt_s
   if
    i32.const -1
    local.set $0
    i32.const 1064
    i32.const -1
    i32.store
    i32.const 1068
    i32.const 6
    i32.store
    br $folding-inner0
   end
   local.get $0
   i32.load offset=32
   local.tee $0
   i32.const -16711936
   i32.and
   i32.const 8
   i32.rotl
   local.get $0
   i32.const 16711935
   i32.and
   i32.const 8
   i32.rotr
   i32.or
   local.tee $2
   i32.const 65599
   i32.gt_u
   if
    local.get $1
    return
   end
   i32.const 1088
   local.set $0
   i32.const 1060
   i32.load
   i32.const 48
   i32.mul
   i32.const 1088
   i32.add
   local.set $3
   block $__inlined_func$wasm/assembly/chunk_parse/findSlot$5
    loop $while-continue|0
     local.get $0
     local.get $3
     i32.lt_u
     if
      local.get $0
      i32.load
      local.get $2
      i32.eq
      br_if $__inlined_func$wasm/assembly/chunk_parse/findSlot$5
      local.get $0
      i32.const 48
      i32.add
      local.set $0
      br $while-continue|0
     end
    end
    i32.const 0
    local.set $0
   end
   local.get $0
   if (result i32)
    local.get $0
    i32.load offset=28
    i32.const 2
    i32.and
   else
    i32.const 0
   end
   i32.eqz
   if
    local.get $1
    return
   end
   local.get $0
   local.get $0
   i32.load offset=28
   i32.const -3
   i32.and
   i32.store offset=28
   local.get $0
   i32.const 0
   i32.store offset=24
   local.get $1
   i32.const 5
   i32.shl
   i32.const -8192
   i32.sub
   local.tee $0
   i32.const 0
   i32.const 32
   memory.fill
   local.get $0
   i32.const 2
   i32.store
   local.get $0
   local.get $2
   i32.store offset=4
   local.get $1
   i32.const 1
   i32.add
   return
  end
  i32.const 1072
  local.get $4
  i32.store
  i32.const 1076
  local.get $2
  i32.store
  i32.const 1080
  i32.const 4
  i32.store
  local.get $0
 )
 (func $wasm/assembly/ts_packet/tsPacketize (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 f64) (result i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i64)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i64)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  local.get $1
  i32.const 0
  i32.le_s
  local.get $1
  i32.const 12582912
  i32.gt_s
  i32.or
  if
   i32.const -5
   return
  end
  local.get $2
  i32.const 0
  i32.lt_s
  local.get $2
  i32.const 8190
  i32.gt_s
  i32.or
  local.get $3
  i32.const 0
  i32.lt_s
  i32.or
  local.get $3
  i32.const 15
  i32.gt_s
  i32.or
  if
   i32.const -8
   return
  end
  local.get $5
  f64.const 0
  f64.ge
  local.tee $10
  local.get $5
  f64.const 2576980377600
  f64.lt
  i32.eqz
  i32.and
  if
   i32.const -8
   return
  end
  i32.const 184
  i32.const 8
  i32.const 2
  i32.const 0
  local.get $4
  i32.const 0
  i32.ne
  local.tee $12
  select
  local.get $10
  select
  local.tee $4
  i32.sub
  local.tee $6
  local.get $1
  i32.ge_s
  if (result i32)
   i32.const 188
  else
   local.get $1
   local.get $6
   i32.sub
   i32.const 183
   i32.add
   i32.const 184
   i32.div_s
   i32.const 1
   i32.add
   i32.const 188
   i32.mul
  end
  local.tee $11
  i32.const 15728640
  i32.gt_s
  if
   i32.const -6
   return
  end
  local.get $0
  local.get $11
  local.get $1
  i32.sub
  i32.lt_s
  local.get $0
  i32.const 15728640
  local.get $1
  i32.sub
  i32.gt_s
  i32.or
  if
   i32.const -8
   return
  end
  i32.const 10485760
  local.set $6
  local.get $0
  i32.const 10485760
  i32.add
  local.set $9
  i32.const 1
  local.set $0
  loop $while-continue|0
   local.get $1
   i32.const 0
   i32.gt_s
   if
    i32.const 184
    local.get $4
    i32.sub
    local.tee $14
    local.get $1
    local.get $1
    local.get $14
    i32.gt_s
    select
    local.set $7
    local.get $6
    i32.const 71
    i32.store8
    local.get $6
    local.get $2
    i32.const 8
    i32.shr_u
    i32.const 64
    i32.const 0
    local.get $0
    select
    i32.or
    i32.store8 offset=1
    local.get $6
    local.get $2
    i32.store8 offset=2
    local.get $6
    i32.const 48
    i32.const 16
    local.get $4
    local.get $14
    i32.add
    local.get $7
    i32.sub
    local.tee $4
    i32.const 0
    i32.gt_s
    local.tee $14
    select
    local.get $3
    i32.or
    i32.store8 offset=3
    local.get $6
    i32.const 4
    i32.add
    local.set $15
    local.get $14
    if (result i32)
     local.get $15
     local.get $4
     i32.const 1
     i32.sub
     i32.store8
     local.get $4
     i32.const 1
     i32.gt_s
     if
      local.get $15
      i32.const 64
      i32.const 0
      local.get $0
      local.get $12
      i32.and
      select
      local.tee $14
      i32.const 16
      i32.or
      local.get $14
      local.get $0
      local.get $10
      i32.and
      local.tee $14
      select
      i32.store8 offset=1
      local.get $15
      i32.const 2
      i32.add
      local.set $0
      local.get $14
      if
       local.get $0
       local.get $5
       i64.trunc_sat_f64_u
       local.tee $13
       i64.const 300
       i64.div_u
       local.tee $8
       i64.const 25
       i64.shr_u
       i64.store8
       local.get $0
       local.get $8
       i64.const 17
       i64.shr_u
       i64.store8 offset=1
       local.get $0
       local.get $8
       i64.const 9
       i64.shr_u
       i64.store8 offset=2
       local.get $0
       local.get $8
       i64.const 1
       i64.shr_u
       i64.store8 offset=3
       local.get $0
       local.get $8
       i64.const 1
       i64.and
       i32.wrap_i64
       i32.const 7
       i32.shl
       i32.const 126
       i32.or
       local.get $13
       i64.const 300
       i64.rem_u
       i32.wrap_i64
       local.tee $14
       i32.const 8
       i32.shr_u
       i32.or
       i32.store8 offset=4
       local.get $0
       local.get $14
       i32.store8 offset=5
       local.get $0
       i32.const 6
       i32.add
       local.set $0
      end
      local.get $0
      local.get $4
      local.get $15
      i32.add
      local.tee $16
      i32.lt_u
      if
       local.get $0
       i32.const 255
       local.get $16
       local.get $0
       i32.sub
       memory.fill
      end
     end
     local.get $4
     local.get $15
     i32.add
    else
     local.get $15
    end
    local.get $9
    local.get $7
    memory.copy
    local.get $6
    i32.const 188
    i32.add
    local.set $6
    local.get $7
    local.get $9
    i32.add
    local.set $9
    local.get $1
    local.get $7
    i32.sub
    local.set $1
    local.get $3
    i32.const 1
    i32.add
    i32.const 15
    i32.and
    local.set $3
    i32.const 0
    local.set $4
    i32.const 0
    local.set $0
    br $while-continue|0
   end
  end
  local.get $11
 )
 (func $wasm/assembly/rtp_packet/rtpPacketizeNals (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32) (param $6 i32) (param $7 i32) (result i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i64)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local $17 i32)
  (local $18 i32)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  local.get $0
  i32.const 0
  i32.le_s
  local.get $0
  i32.const 122880
  i32.gt_s
  i32.or
  if
   i32.const -5
   return
  end
  block $folding-inner0
   local.get $1
   i32.const 3
   i32.lt_s
   local.get $1
   i32.const 65523
   i32.gt_s
   i32.or
   br_if $folding-inner0
   local.get $3
   i32.const 0
   i32.lt_s
   local.get $3
   i32.const 65535
   i32.gt_s
   i32.or
   local.get $5
   i32.const 0
   i32.lt_s
   i32.or
   local.get $5
   i32.const 127
   i32.gt_s
   i32.or
   br_if $folding-inner0
   local.get $7
   i32.const 0
   i32.lt_s
   local.get $7
   i32.const 255
   i32.gt_s
   i32.or
   br_if $folding-inner0
   local.get $1
   i32.const 2
   i32.sub
   local.set $13
   loop $for-loop|0
    local.get $0
    local.get $9
    i32.gt_s
    if
     local.get $9
     i32.const 3
     i32.shl
     i32.const 65536
     i32.add
     local.tee $8
     i32.load
     local.tee $11
     local.get $10
     i32.lt_s
     local.get $8
     i32.load offset=4
     local.tee $8
     i32.const 0
     i32.le_s
     i32.or
     local.get $11
     i32.const 15728640
     local.get $8
     i32.sub
     i32.gt_s
     i32.or
     br_if $folding-inner0
     local.get $8
     local.get $11
     i32.add
     local.set $10
     local.get $1
     local.get $8
     i32.ge_s
     if (result i64)
      local.get $12
      local.get $8
      i32.const 16
      i32.add
      i64.extend_i32_s
      i64.add
     else
      local.get $12
      local.get $8
      i32.const 1
      i32.sub
      i64.extend_i32_s
      local.get $8
      local.get $13
      i32.add
      i32.const 2
      i32.sub
      local.get $13
      i32.div_s
      i64.extend_i32_s
      i64.const 18
      i64.mul
      i64.add
      i64.add
     end
     local.set $12
     local.get $9
     i32.const 1
     i32.add
     local.set $9
     br $for-loop|0
    end
   end
   local.get $12
   i64.const 15728640
   i64.gt_s
   if
    i32.const -6
    return
   end
   local.get $10
   i64.extend_i32_s
   local.get $12
   i64.ne
   br_if $folding-inner0
   i32.const 10485760
   local.set $8
   i32.const 0
   local.set $10
   loop $for-loop|1
    local.get $0
    local.get $10
    i32.gt_s
    if
     local.get $10
     i32.const 3
     i32.shl
     i32.const 65536
     i32.add
     local.tee $9
     i32.load
     i32.const 10485760
     i32.add
     local.set $11
     local.get $10
     local.get $0
     i32.const 1
     i32.sub
     i32.eq
     local.set $16
     block $for-continue|1
      local.get $9
      i32.load offset=4
      local.tee $9
      local.get $1
      i32.le_s
      if
       local.get $8
       i32.const 16
       i32.add
       local.tee $14
       local.get $11
       i32.gt_u
       br_if $folding-inner0
       local.get $8
       i32.const 36
       i32.store8
       local.get $8
       local.get $7
       i32.store8 offset=1
       local.get $8
       local.get $9
       i32.const 12
       i32.add
       local.tee $15
       i32.const 8
       i32.shr_u
       i32.store8 offset=2
       local.get $8
       local.get $15
       i32.store8 offset=3
       local.get $8
       i32.const 128
       i32.store8 offset=4
       local.get $8
       i32.const 128
       i32.const 0
       local.get $6
       i32.const 0
       i32.ne
       local.get $16
       i32.and
       select
       local.get $5
       i32.or
       i32.store8 offset=5
       local.get $8
       local.get $3
       i32.const 65535
       i32.and
       local.tee $15
       i32.const 8
       i32.shr_u
       i32.store8 offset=6
       local.get $8
       local.get $15
       i32.store8 offset=7
       local.get $8
       local.get $4
       i32.const -16711936
       i32.and
       i32.const 8
       i32.rotl
       local.get $4
       i32.const 16711935
       i32.and
       i32.const 8
       i32.rotr
       i32.or
       i32.store offset=8
       local.get $8
       local.get $2
       i32.const -16711936
       i32.and
       i32.const 8
       i32.rotl
       local.get $2
       i32.const 16711935
       i32.and
       i32.const 8
       i32.rotr
       i32.or
       i32.store offset=12
       local.get $14
       local.get $11
       local.get $9
       memory.copy
       local.get $8
       local.get $9
       i32.const 16
       i32.add
       i32.add
       local.set $8
       local.get $3
       i32.const 1
       i32.add
       local.set $3
       br $for-continue|1
      end
      local.get $11
      i32.load8_u
      local.tee $17
      i32.const 224
      i32.and
      i32.const 28
      i32.or
      local.set $20
      local.get $11
      i32.const 1
      i32.add
      local.set $11
      local.get $9
      i32.const 1
      i32.sub
      local.set $9
      i32.const 1
      local.set $14
      loop $while-continue|2
       local.get $9
       i32.const 0
       i32.gt_s
       if
        local.get $8
        i32.const 18
        i32.add
        local.tee $15
        local.get $11
        i32.gt_u
        br_if $folding-inner0
        local.get $8
        i32.const 36
        i32.store8
        local.get $8
        local.get $7
        i32.store8 offset=1
        local.get $8
        local.get $13
        local.get $9
        local.get $9
        local.get $13
        i32.gt_s
        select
        local.tee $18
        i32.const 14
        i32.add
        local.tee $19
        i32.const 8
        i32.shr_u
        i32.store8 offset=2
        local.get $8
        local.get $19
        i32.store8 offset=3
        local.get $8
        i32.const 128
        i32.store8 offset=4
        local.get $8
        i32.const 128
        i32.const 0
        local.get $9
        local.get $18
        i32.eq
        local.tee $19
        local.get $16
        i32.and
        local.get $6
        i32.const 0
        i32.ne
        i32.and
        select
        local.get $5
        i32.or
        i32.store8 offset=5
        local.get $8
        local.get $3
        i32.const 65535
        i32.and
        local.tee $21
        i32.const 8
        i32.shr_u
        i32.store8 offset=6
        local.get $8
        local.get $21
        i32.store8 offset=7
        local.get $8
        local.get $4
        i32.const -16711936
        i32.and
        i32.const 8
        i32.rotl
        local.get $4
        i32.const 16711935
        i32.and
        i32.const 8
        i32.rotr
        i32.or
        i32.store offset=8
        local.get $8
        local.get $2
        i32.const -16711936
        i32.and
        i32.const 8
        i32.rotl
        local.get $2
        i32.const 16711935
        i32.and
        i32.const 8
        i32.rotr
        i32.or
        i32.store offset=12
        local.get $8
        local.get $20
        i32.store8 offset=16
        local.get $8
        local.get $17
        i32.const 31
        i32.and
        i32.const 128
        i32.const 0
        local.get $14
        select
        i32.const 64
        i32.const 0
        local.get $19
        select
        i32.or
        i32.or
        i32.store8 offset=17
        local.get $15
        local.get $11
        local.get $18
        memory.copy
        local.get $8
        local.get $18
        i32.const 18
        i32.add
        i32.add
        local.set $8
        local.get $11
        local.get $18
        i32.add
        local.set $11
        local.get $9
        local.get $18
        i32.sub
        local.set $9
        local.get $3
        i32.const 1
        i32.add
        local.set $3
        i32.const 0
        local.set $14
        br $while-continue|2
       end
      end
     end
     local.get $10
     i32.const 1
     i32.add
     local.set $10
     br $for-loop|1
    end
   end
   local.get $12
   i32.wrap_i64
   return
  end
  i32.const -8
 )
 (func $wasm/assembly/nal_scan/parseSps (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i64)
  (local $7 i64)
  (local $8 i64)
  (local $9 i64)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local $17 i32)
  (local $18 i32)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 i64)
  loop $for-loop|0
   local.get $1
   local.get $4
   i32.gt_s
   if
    local.get $0
    local.get $4
    i32.add
    i32.load8_u
    local.tee $10
    i32.const 3
    i32.eq
    local.get $5
    i32.const 2
    i32.ge_s
    i32.and
    if (result i32)
     i32.const 0
    else
     local.get $2
     i32.const 10485760
     i32.add
     local.get $10
     i32.store8
     local.get $2
     i32.const 1
     i32.add
     local.set $2
     i32.const 0
     local.get $5
     i32.const 1
     i32.add
     local.get $10
     select
    end
    local.set $5
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|0
   end
  end
  i32.const 0
  global.set $wasm/assembly/nal_scan/bitPos
  local.get $2
  i32.const 3
  i32.shl
  global.set $wasm/assembly/nal_scan/bitTotal
  i32.const 0
  global.set $wasm/assembly/nal_scan/errReason
  i32.const 0
  i32.const 1
  i32.const 0
  call $wasm/assembly/nal_scan/u
  local.tee $0
  global.get $wasm/assembly/nal_scan/errReason
  select
  if
   i32.const 2
   global.set $wasm/assembly/nal_scan/errReason
   i32.const 65536
   i32.const 2
   i32.store
   i32.const 65540
   i32.const 0
   i32.store
   i32.const 65544
   local.get $0
   i32.store
   i32.const 65548
   i32.const 0
   i32.store
  end
  i32.const 2
  i32.const 1
  call $wasm/assembly/nal_scan/u
  drop
  i32.const 5
  i32.const 2
  call $wasm/assembly/nal_scan/u
  local.set $0
  global.get $wasm/assembly/nal_scan/errReason
  i32.eqz
  local.get $0
  i32.const 7
  i32.ne
  i32.and
  if
   i32.const 4
   global.set $wasm/assembly/nal_scan/errReason
   i32.const 65536
   i32.const 4
   i32.store
   i32.const 65540
   i32.const 2
   i32.store
   i32.const 65544
   local.get $0
   i32.store
   i32.const 65548
   i32.const 7
   i32.store
  end
  i32.const 8
  i32.const 3
  call $wasm/assembly/nal_scan/u
  local.set $16
  i32.const 8
  i32.const 4
  call $wasm/assembly/nal_scan/u
  local.set $13
  i32.const 8
  i32.const 5
  call $wasm/assembly/nal_scan/u
  local.set $14
  i32.const 6
  i32.const 31
  call $wasm/assembly/nal_scan/ueMax
  local.set $15
  i32.const 1
  local.set $5
  i32.const 8
  local.set $10
  i32.const 8
  local.set $11
  local.get $16
  i32.const 110
  i32.eq
  local.get $16
  i32.const 100
  i32.eq
  i32.or
  local.get $16
  i32.const 122
  i32.eq
  i32.or
  local.get $16
  i32.const 244
  i32.eq
  i32.or
  local.get $16
  i32.const 44
  i32.eq
  i32.or
  local.get $16
  i32.const 83
  i32.eq
  i32.or
  local.get $16
  i32.const 86
  i32.eq
  i32.or
  local.get $16
  i32.const 118
  i32.eq
  i32.or
  local.get $16
  i32.const 128
  i32.eq
  i32.or
  local.get $16
  i32.const 138
  i32.eq
  i32.or
  local.get $16
  i32.const 139
  i32.eq
  i32.or
  local.get $16
  i32.const 134
  i32.eq
  i32.or
  local.get $16
  i32.const 135
  i32.eq
  i32.or
  if
   i32.const 7
   i32.const 3
   call $wasm/assembly/nal_scan/ueMax
   local.tee $5
   i32.const 3
   i32.eq
   if (result i32)
    i32.const 1
    i32.const 8
    call $wasm/assembly/nal_scan/u
   else
    i32.const 0
   end
   local.set $12
   i32.const 9
   i32.const 6
   call $wasm/assembly/nal_scan/ueMax
   i32.const 8
   i32.add
   local.set $10
   i32.const 10
   i32.const 6
   call $wasm/assembly/nal_scan/ueMax
   i32.const 8
   i32.add
   local.set $11
   i32.const 1
   i32.const 11
   call $wasm/assembly/nal_scan/u
   drop
   i32.const 1
   i32.const 12
   call $wasm/assembly/nal_scan/u
   if
    i32.const 8
    i32.const 12
    local.get $5
    i32.const 3
    i32.ne
    select
    local.set $4
    loop $for-loop|1
     local.get $3
     local.get $4
     i32.lt_s
     if
      i32.const 1
      i32.const 13
      call $wasm/assembly/nal_scan/u
      if
       i32.const 16
       i32.const 64
       local.get $3
       i32.const 6
       i32.lt_s
       select
       local.set $17
       i32.const 8
       local.set $0
       i32.const 8
       local.set $1
       i32.const 0
       local.set $2
       loop $for-loop|04
        local.get $2
        local.get $17
        i32.lt_s
        if
         local.get $1
         if
          local.get $0
          i32.const 14
          call $wasm/assembly/nal_scan/se
          i32.const 255
          i32.and
          i32.add
          i32.const 255
          i32.and
          local.set $1
         end
         local.get $1
         if
          local.get $1
          local.set $0
         end
         local.get $2
         i32.const 1
         i32.add
         local.set $2
         br $for-loop|04
        end
       end
      end
      local.get $3
      i32.const 1
      i32.add
      local.set $3
      br $for-loop|1
     end
    end
   end
  end
  i32.const 15
  i32.const 12
  call $wasm/assembly/nal_scan/ueMax
  i32.const 4
  i32.add
  local.set $19
  i32.const 16
  i32.const 2
  call $wasm/assembly/nal_scan/ueMax
  local.tee $20
  if
   local.get $20
   i32.const 1
   i32.eq
   if
    i32.const 1
    i32.const 18
    call $wasm/assembly/nal_scan/u
    drop
    i32.const 19
    call $wasm/assembly/nal_scan/se
    drop
    i32.const 20
    call $wasm/assembly/nal_scan/se
    drop
    i32.const 21
    i32.const 255
    call $wasm/assembly/nal_scan/ueMax
    local.set $0
    i32.const 0
    local.set $1
    loop $for-loop|2
     local.get $0
     local.get $1
     i32.gt_u
     if
      i32.const 22
      call $wasm/assembly/nal_scan/se
      drop
      local.get $1
      i32.const 1
      i32.add
      local.set $1
      br $for-loop|2
     end
    end
   end
  else
   i32.const 17
   i32.const 12
   call $wasm/assembly/nal_scan/ueMax
   drop
  end
  i32.const 23
  i32.const 16
  call $wasm/assembly/nal_scan/ueMax
  local.set $0
  i32.const 1
  i32.const 24
  call $wasm/assembly/nal_scan/u
  drop
  i32.const 25
  i32.const 1023
  call $wasm/assembly/nal_scan/ueMax
  i32.const 1
  i32.add
  i32.const 26
  i32.const 1023
  call $wasm/assembly/nal_scan/ueMax
  i32.const 1
  i32.add
  local.set $3
  i32.const 1
  i32.const 27
  call $wasm/assembly/nal_scan/u
  local.tee $21
  i32.eqz
  if
   i32.const 1
   i32.const 28
   call $wasm/assembly/nal_scan/u
   drop
  end
  i32.const 1
  i32.const 29
  call $wasm/assembly/nal_scan/u
  drop
  i32.const 4
  i32.shl
  local.set $2
  local.get $3
  i32.const 2
  local.get $21
  i32.sub
  local.tee $1
  i32.mul
  i32.const 4
  i32.shl
  local.set $17
  i32.const 1
  i32.const 2
  i32.const 0
  local.get $5
  local.get $12
  select
  local.tee $3
  i32.const 3
  i32.eq
  select
  i32.const 1
  local.get $3
  select
  local.set $4
  i32.const 1
  i32.const 30
  call $wasm/assembly/nal_scan/u
  if
   local.get $4
   i64.extend_i32_u
   local.tee $6
   i32.const 31
   call $wasm/assembly/nal_scan/ue
   i64.extend_i32_u
   i64.mul
   local.set $8
   i32.const 32
   call $wasm/assembly/nal_scan/ue
   i64.extend_i32_u
   local.get $6
   i64.mul
   local.set $6
   local.get $1
   i32.const 2
   i32.const 1
   local.get $3
   i32.const 1
   i32.eq
   select
   i32.mul
   local.get $1
   local.get $3
   select
   i64.extend_i32_u
   local.tee $7
   i32.const 33
   call $wasm/assembly/nal_scan/ue
   i64.extend_i32_u
   i64.mul
   local.set $9
   i32.const 34
   call $wasm/assembly/nal_scan/ue
   i64.extend_i32_u
   local.get $7
   i64.mul
   local.set $7
   global.get $wasm/assembly/nal_scan/errReason
   i32.eqz
   local.get $6
   local.get $8
   i64.add
   local.tee $22
   local.get $2
   i64.extend_i32_u
   i64.const 1
   i64.sub
   i64.gt_u
   i32.and
   if
    i32.const 2
    global.set $wasm/assembly/nal_scan/errReason
    i32.const 65536
    i32.const 2
    i32.store
    i32.const 65540
    i32.const 35
    i32.store
    i32.const 65544
    i32.const -1
    local.get $22
    i32.wrap_i64
    local.get $22
    i64.const 4294967295
    i64.gt_u
    select
    i32.store
    i32.const 65548
    local.get $2
    i32.const 1
    i32.sub
    i32.store
   end
   global.get $wasm/assembly/nal_scan/errReason
   i32.eqz
   local.get $7
   local.get $9
   i64.add
   local.tee $22
   local.get $17
   i64.extend_i32_s
   i64.const 1
   i64.sub
   i64.gt_u
   i32.and
   if
    i32.const 2
    global.set $wasm/assembly/nal_scan/errReason
    i32.const 65536
    i32.const 2
    i32.store
    i32.const 65540
    i32.const 36
    i32.store
    i32.const 65544
    i32.const -1
    local.get $22
    i32.wrap_i64
    local.get $22
    i64.const 4294967295
    i64.gt_u
    select
    i32.store
    i32.const 65548
    local.get $17
    i32.const 1
    i32.sub
    i32.store
   end
  end
  i32.const 0
  local.set $3
  i32.const 0
  local.set $4
  i32.const 0
  local.set $1
  i32.const 1
  i32.const 37
  call $wasm/assembly/nal_scan/u
  if (result i32)
   i32.const 1
   i32.const 38
   call $wasm/assembly/nal_scan/u
   if
    i32.const 8
    i32.const 39
    call $wasm/assembly/nal_scan/u
    i32.const 255
    i32.eq
    if
     i32.const 16
     i32.const 40
     call $wasm/assembly/nal_scan/u
     drop
     i32.const 16
     i32.const 41
     call $wasm/assembly/nal_scan/u
     drop
    end
   end
   i32.const 1
   i32.const 42
   call $wasm/assembly/nal_scan/u
   if
    i32.const 1
    i32.const 43
    call $wasm/assembly/nal_scan/u
    drop
   end
   i32.const 1
   i32.const 44
   call $wasm/assembly/nal_scan/u
   if
    i32.const 3
    i32.const 45
    call $wasm/assembly/nal_scan/u
    drop
    i32.const 1
    i32.const 46
    call $wasm/assembly/nal_scan/u
    drop
    i32.const 1
    i32.const 47
    call $wasm/assembly/nal_scan/u
    if
     i32.const 8
     i32.const 48
     call $wasm/assembly/nal_scan/u
     drop
     i32.const 8
     i32.const 49
     call $wasm/assembly/nal_scan/u
     drop
     i32.const 8
     i32.const 50
     call $wasm/assembly/nal_scan/u
     drop
    end
   end
   i32.const 1
   i32.const 51
   call $wasm/assembly/nal_scan/u
   if
    i32.const 52
    call $wasm/assembly/nal_scan/ue
    drop
    i32.const 53
    call $wasm/assembly/nal_scan/ue
    drop
   end
   i32.const 1
   i32.const 54
   call $wasm/assembly/nal_scan/u
   local.tee $3
   if (result i32)
    i32.const 32
    i32.const 55
    call $wasm/assembly/nal_scan/u
    local.set $4
    i32.const 32
    i32.const 56
    call $wasm/assembly/nal_scan/u
    local.set $1
    i32.const 1
    i32.const 57
    call $wasm/assembly/nal_scan/u
   else
    i32.const 0
   end
  else
   i32.const 0
  end
  local.set $18
  global.get $wasm/assembly/nal_scan/errReason
  if
   i32.const -7
   return
  end
  i32.const 65536
  local.get $16
  i32.store
  i32.const 65540
  local.get $13
  i32.store
  i32.const 65544
  local.get $14
  i32.store
  i32.const 65548
  local.get $15
  i32.store
  i32.const 65552
  local.get $5
  i32.store
  i32.const 65556
  local.get $12
  i32.store
  i32.const 65560
  local.get $10
  i32.store
  i32.const 65564
  local.get $11
  i32.store
  i32.const 65568
  local.get $19
  i32.store
  i32.const 65572
  local.get $20
  i32.store
  i32.const 65576
  local.get $0
  i32.store
  i32.const 65580
  local.get $21
  i32.store
  i32.const 65584
  local.get $2
  i32.store
  i32.const 65588
  local.get $17
  i32.store
  i32.const 65592
  local.get $8
  i64.store32
  i32.const 65596
  local.get $6
  i64.store32
  i32.const 65600
  local.get $9
  i64.store32
  i32.const 65604
  local.get $7
  i64.store32
  i32.const 65608
  local.get $2
  local.get $6
  local.get $8
  i64.add
  i32.wrap_i64
  i32.sub
  i32.store
  i32.const 65612
  local.get $17
  local.get $7
  local.get $9
  i64.add
  i32.wrap_i64
  i32.sub
  i32.store
  i32.const 65616
  local.get $3
  i32.store
  i32.const 65620
  local.get $4
  i32.store
  i32.const 65624
  local.get $1
  i32.store
  i32.const 65628
  local.get $18
  i32.store
  i32.const 0
 )
 (func $wasm/assembly/nal_scan/nalScan (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  local.get $0
  i32.const 0
  local.get $1
  call $wasm/assembly/nal_scan/findStartCode
  local.set $4
  loop $while-continue|0
   local.get $4
   i32.const 0
   i32.ge_s
   if
    local.get $1
    local.get $0
    local.get $4
    i32.const 3
    i32.add
    local.tee $5
    local.get $1
    call $wasm/assembly/nal_scan/findStartCode
    local.tee $4
    local.get $4
    i32.const 0
    i32.lt_s
    select
    local.set $3
    loop $while-continue|1
     local.get $3
     local.get $5
     i32.gt_s
     if (result i32)
      local.get $0
      local.get $3
      i32.add
      i32.const 1
      i32.sub
      i32.load8_u
     else
      i32.const 1
     end
     i32.eqz
     if
      local.get $3
      i32.const 1
      i32.sub
      local.set $3
      br $while-continue|1
     end
    end
    local.get $3
    local.get $5
    i32.gt_s
    if
     local.get $2
     i32.const 122880
     i32.lt_s
     if
      local.get $2
      i32.const 3
      i32.shl
      i32.const 65536
      i32.add
      local.tee $6
      local.get $5
      i32.store
      local.get $6
      local.get $3
      local.get $5
      i32.sub
      i32.store offset=4
     end
     local.get $2
     i32.const 1
     i32.add
     local.set $2
    end
    br $while-continue|0
   end
  end
  local.get $2
  i32.const 122880
  i32.gt_s
  if
   i32.const 65536
   local.get $2
   i32.store
   i32.const -6
   return
  end
  local.get $2
 )
 (func $wasm/assembly/nal_scan/avccToAnnexB (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i64)
  (local $6 i32)
  (local $7 i32)
  loop $while-continue|0
   local.get $1
   local.get $4
   i32.gt_s
   if
    local.get $1
    local.get $4
    i32.sub
    local.tee $6
    local.get $2
    i32.lt_s
    if
     i32.const 65536
     i32.const 1
     i32.store
     i32.const 65540
     local.get $4
     i32.store
     i32.const 65544
     local.get $2
     i32.store
     i32.const 65548
     local.get $6
     i32.store
     i32.const -7
     return
    end
    local.get $0
    local.get $4
    i32.add
    local.set $7
    local.get $6
    local.get $2
    i32.sub
    i64.extend_i32_s
    local.get $2
    i32.const 4
    i32.eq
    if (result i32)
     local.get $7
     i32.load
     local.tee $7
     i32.const -16711936
     i32.and
     i32.const 8
     i32.rotl
     local.get $7
     i32.const 16711935
     i32.and
     i32.const 8
     i32.rotr
     i32.or
    else
     local.get $2
     i32.const 2
     i32.eq
     if (result i32)
      local.get $7
      i32.load8_u offset=1
      local.get $7
      i32.load8_u
      i32.const 8
      i32.shl
      i32.or
     else
      local.get $7
      i32.load8_u
     end
    end
    local.tee $7
    i64.extend_i32_u
    i64.lt_u
    if
     i32.const 65536
     i32.const 2
     i32.store
     i32.const 65540
     local.get $4
     i32.store
     i32.const 65544
     local.get $7
     i32.store
     i32.const 65548
     local.get $6
     local.get $2
     i32.sub
     i32.store
     i32.const -7
     return
    end
    local.get $5
    local.get $7
    i64.extend_i32_u
    i64.const 4
    i64.add
    i64.add
    local.get $5
    local.get $7
    select
    local.set $5
    local.get $4
    local.get $2
    local.get $7
    i32.add
    i32.add
    local.set $4
    br $while-continue|0
   end
  end
  local.get $5
  i64.const 15728640
  i64.gt_u
  if
   i32.const 65536
   local.get $5
   i64.store32
   i32.const 65540
   i32.const 15728640
   i32.store
   i32.const -6
   return
  end
  i32.const 0
  local.set $4
  loop $while-continue|1
   local.get $1
   local.get $4
   i32.gt_s
   if
    local.get $0
    local.get $4
    i32.add
    local.set $6
    local.get $2
    local.get $4
    i32.add
    local.set $4
    local.get $2
    i32.const 4
    i32.eq
    if (result i32)
     local.get $6
     i32.load
     local.tee $6
     i32.const -16711936
     i32.and
     i32.const 8
     i32.rotl
     local.get $6
     i32.const 16711935
     i32.and
     i32.const 8
     i32.rotr
     i32.or
    else
     local.get $2
     i32.const 2
     i32.eq
     if (result i32)
      local.get $6
      i32.load8_u offset=1
      local.get $6
      i32.load8_u
      i32.const 8
      i32.shl
      i32.or
     else
      local.get $6
      i32.load8_u
     end
    end
    local.tee $6
    i32.const 0
    i32.gt_s
    if
     local.get $3
     i32.const 10485760
     i32.add
     i32.const 16777216
     i32.store
     local.get $3
     i32.const 10485764
     i32.add
     local.get $0
     local.get $4
     i32.add
     local.get $6
     memory.copy
     local.get $3
     local.get $6
     i32.const 4
     i32.add
     i32.add
     local.set $3
    end
    local.get $4
    local.get $6
    i32.add
    local.set $4
    br $while-continue|1
   end
  end
  local.get $3
 )
 (func $wasm/assembly/nal_scan/annexBToAvcc (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (result i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  i32.const 26214400
  local.get $2
  i32.sub
  local.set $8
  local.get $3
  i32.const 4
  i32.eq
  if (result i32)
   i32.const -1
  else
   i32.const 1
   local.get $3
   i32.const 3
   i32.shl
   i32.shl
   i32.const 1
   i32.sub
  end
  local.set $9
  local.get $0
  i32.const 0
  local.get $1
  call $wasm/assembly/nal_scan/findStartCode
  local.set $6
  loop $while-continue|0
   local.get $6
   i32.const 0
   i32.ge_s
   if
    local.get $1
    local.get $0
    local.get $6
    i32.const 3
    i32.add
    local.tee $7
    local.get $1
    call $wasm/assembly/nal_scan/findStartCode
    local.tee $6
    local.get $6
    i32.const 0
    i32.lt_s
    select
    local.set $5
    loop $while-continue|1
     local.get $5
     local.get $7
     i32.gt_s
     if (result i32)
      local.get $0
      local.get $5
      i32.add
      i32.const 1
      i32.sub
      i32.load8_u
     else
      i32.const 1
     end
     i32.eqz
     if
      local.get $5
      i32.const 1
      i32.sub
      local.set $5
      br $while-continue|1
     end
    end
    local.get $5
    local.get $7
    i32.sub
    local.tee $5
    i32.const 0
    i32.gt_s
    if
     local.get $5
     local.get $9
     i32.gt_u
     if
      i32.const 65536
      local.get $7
      i32.store
      i32.const 65540
      local.get $5
      i32.store
      i32.const 65544
      local.get $9
      i32.store
      i32.const -8
      return
     end
     local.get $3
     local.get $4
     i32.add
     local.get $5
     i32.add
     local.get $8
     i32.gt_s
     if
      i32.const 65536
      local.get $8
      i32.store
      i32.const -6
      return
     end
     local.get $2
     local.get $4
     i32.add
     local.set $10
     local.get $3
     i32.const 4
     i32.eq
     if
      local.get $10
      local.get $5
      i32.const -16711936
      i32.and
      i32.const 8
      i32.rotl
      local.get $5
      i32.const 16711935
      i32.and
      i32.const 8
      i32.rotr
      i32.or
      i32.store
     else
      local.get $3
      i32.const 2
      i32.eq
      if
       local.get $10
       local.get $5
       i32.const 8
       i32.shr_u
       i32.store8
       local.get $10
       local.get $5
       i32.store8 offset=1
      else
       local.get $10
       local.get $5
       i32.store8
      end
     end
     local.get $3
     local.get $10
     i32.add
     local.get $0
     local.get $7
     i32.add
     local.get $5
     memory.copy
     local.get $4
     local.get $3
     local.get $5
     i32.add
     i32.add
     local.set $4
    end
    br $while-continue|0
   end
  end
  local.get $4
 )
 (func $wasm/assembly/flv_tag/flvTagWraps (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  i32.const 65536
  local.set $2
  i32.const 10485760
  local.set $1
  loop $for-loop|0
   local.get $0
   local.get $3
   i32.gt_s
   if
    local.get $2
    i32.load offset=4
    local.set $6
    local.get $2
    i32.load offset=8
    local.set $5
    local.get $1
    local.get $2
    i32.load
    i32.store8
    local.get $1
    local.get $5
    i32.const 16
    i32.shr_u
    i32.store8 offset=1
    local.get $1
    local.get $5
    i32.const 8
    i32.shr_u
    i32.store8 offset=2
    local.get $1
    local.get $5
    i32.store8 offset=3
    local.get $1
    local.get $6
    i32.const 16777215
    i32.and
    local.tee $4
    i32.const 16
    i32.shr_u
    i32.store8 offset=4
    local.get $1
    local.get $4
    i32.const 8
    i32.shr_u
    i32.store8 offset=5
    local.get $1
    local.get $4
    i32.store8 offset=6
    local.get $1
    local.get $6
    i32.const 24
    i32.shr_u
    i32.store8 offset=7
    local.get $1
    i32.const 0
    i32.store8 offset=8
    local.get $1
    i32.const 0
    i32.store8 offset=9
    local.get $1
    i32.const 0
    i32.store8 offset=10
    local.get $1
    local.get $5
    i32.const 11
    i32.add
    local.tee $4
    i32.const -16711936
    i32.and
    i32.const 8
    i32.rotl
    local.get $4
    i32.const 16711935
    i32.and
    i32.const 8
    i32.rotr
    i32.or
    i32.store offset=11
    local.get $2
    i32.const 12
    i32.add
    local.set $2
    local.get $1
    i32.const 15
    i32.add
    local.set $1
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $for-loop|0
   end
  end
  local.get $0
  i32.const 15
  i32.mul
 )
 (func $wasm/assembly/flv_tag/flvTagWrap (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  i32.const 10485760
  local.get $0
  i32.store8
  i32.const 10485761
  local.get $2
  i32.const 16
  i32.shr_u
  i32.store8
  i32.const 10485762
  local.get $2
  i32.const 8
  i32.shr_u
  i32.store8
  i32.const 10485763
  local.get $2
  i32.store8
  i32.const 10485764
  local.get $1
  i32.const 16777215
  i32.and
  local.tee $0
  i32.const 16
  i32.shr_u
  i32.store8
  i32.const 10485765
  local.get $0
  i32.const 8
  i32.shr_u
  i32.store8
  i32.const 10485766
  local.get $0
  i32.store8
  i32.const 10485767
  local.get $1
  i32.const 24
  i32.shr_u
  i32.store8
  i32.const 10485768
  i32.const 0
  i32.store8
  i32.const 10485769
  i32.const 0
  i32.store8
  i32.const 10485770
  i32.const 0
  i32.store8
  i32.const 10485771
  local.get $2
  i32.const 11
  i32.add
  local.tee $0
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $0
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  i32.store
  i32.const 15
 )
 (func $wasm/assembly/flv_tag/flvFileHeader (param $0 i32) (param $1 i32) (result i32)
  i32.const 10485760
  i32.const 70
  i32.store8
  i32.const 10485761
  i32.const 76
  i32.store8
  i32.const 10485762
  i32.const 86
  i32.store8
  i32.const 10485763
  i32.const 1
  i32.store8
  i32.const 10485764
  local.get $1
  i32.const 0
  i32.ne
  i32.const 4
  i32.const 0
  local.get $0
  select
  i32.or
  i32.store8
  i32.const 10485765
  i32.const 150994944
  i32.store
  i32.const 10485769
  i32.const 0
  i32.store
  i32.const 13
 )
 (func $wasm/assembly/chunk_write/chunkEncode (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32) (param $6 i32) (param $7 i32) (param $8 i32) (param $9 i32) (result i32)
  (local $10 i64)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  block $folding-inner0
   local.get $0
   local.get $1
   i32.or
   i32.const 0
   i32.lt_s
   local.get $0
   i32.const 15728640
   local.get $1
   i32.sub
   i32.gt_s
   i32.or
   local.get $2
   i32.const 0
   i32.lt_s
   i32.or
   br_if $folding-inner0
   local.get $3
   i32.const 0
   i32.lt_s
   local.get $3
   i32.const 16777215
   i32.gt_s
   i32.or
   br_if $folding-inner0
   local.get $3
   local.get $2
   i32.sub
   local.get $1
   i32.lt_s
   br_if $folding-inner0
   local.get $4
   i32.const 0
   i32.le_s
   local.get $4
   i32.const 16777215
   i32.gt_s
   i32.or
   br_if $folding-inner0
   i32.const 1
   local.get $7
   i32.const 255
   i32.gt_u
   i32.const 1
   local.get $6
   i32.const 1
   i32.ne
   i32.const 0
   local.get $6
   select
   local.get $5
   i32.const 2
   i32.lt_s
   local.get $5
   i32.const 65599
   i32.gt_s
   i32.or
   select
   select
   br_if $folding-inner0
   i32.const 4
   i32.const 0
   local.get $9
   i32.const 16777215
   i32.ge_u
   local.tee $13
   select
   local.set $14
   local.get $5
   i32.const 64
   i32.lt_s
   if (result i32)
    i32.const 1
   else
    i32.const 2
    i32.const 3
    local.get $5
    i32.const 320
    i32.lt_s
    select
   end
   local.set $11
   local.get $1
   i64.extend_i32_s
   local.get $1
   local.get $2
   i32.add
   local.tee $12
   i32.const 1
   local.get $2
   local.get $2
   i32.const 1
   i32.le_s
   select
   local.tee $15
   i32.gt_s
   if (result i32)
    local.get $4
    local.get $12
    i32.add
    i32.const 1
    i32.sub
    local.get $4
    i32.div_s
    local.get $4
    local.get $15
    i32.add
    i32.const 1
    i32.sub
    local.get $4
    i32.div_s
    i32.sub
   else
    i32.const 0
   end
   i64.extend_i32_s
   local.get $11
   local.get $14
   i32.add
   i64.extend_i32_s
   i64.mul
   i64.add
   local.set $10
   local.get $2
   i32.eqz
   if
    local.get $10
    local.get $11
    i32.const 7
    i32.const 11
    local.get $6
    select
    i32.add
    local.get $14
    i32.add
    i64.extend_i32_s
    i64.add
    local.set $10
   end
   local.get $10
   i64.const 15728640
   i64.gt_s
   if
    i32.const -6
    return
   end
   local.get $0
   i64.extend_i32_s
   local.get $10
   local.get $1
   i64.extend_i32_s
   i64.sub
   i64.lt_s
   br_if $folding-inner0
   i32.const 10485760
   local.set $1
   local.get $0
   i32.const 10485760
   i32.add
   local.set $11
   local.get $4
   local.get $2
   local.get $4
   i32.rem_s
   i32.sub
   local.set $0
   local.get $2
   if
    i32.const 0
    local.get $0
    local.get $0
    local.get $4
    i32.eq
    local.get $2
    local.get $12
    i32.lt_s
    i32.and
    select
    local.set $0
   else
    local.get $6
    i32.const 6
    i32.shl
    local.set $1
    block $__inlined_func$wasm/assembly/chunk_write/putBasicHeader$12 (result i32)
     local.get $5
     i32.const 64
     i32.lt_s
     if
      i32.const 10485760
      local.get $1
      local.get $5
      i32.or
      i32.store8
      i32.const 10485761
      br $__inlined_func$wasm/assembly/chunk_write/putBasicHeader$12
     end
     local.get $5
     i32.const -64
     i32.add
     local.set $14
     local.get $5
     i32.const 320
     i32.lt_s
     if
      i32.const 10485760
      local.get $1
      i32.store8
      i32.const 10485761
      local.get $14
      i32.store8
      i32.const 10485762
      br $__inlined_func$wasm/assembly/chunk_write/putBasicHeader$12
     end
     i32.const 10485760
     local.get $1
     i32.const 1
     i32.or
     i32.store8
     i32.const 10485761
     local.get $14
     i32.store8
     i32.const 10485762
     local.get $14
     i32.const 8
     i32.shr_s
     i32.store8
     i32.const 10485763
    end
    local.tee $1
    i32.const 16777215
    local.get $9
    local.get $13
    select
    local.tee $14
    i32.const 16
    i32.shr_u
    i32.store8
    local.get $1
    local.get $14
    i32.const 8
    i32.shr_u
    i32.store8 offset=1
    local.get $1
    local.get $14
    i32.store8 offset=2
    local.get $6
    if (result i32)
     local.get $1
     local.get $3
     i32.const 16
     i32.shr_u
     i32.store8 offset=3
     local.get $1
     local.get $3
     i32.const 8
     i32.shr_u
     i32.store8 offset=4
     local.get $1
     local.get $3
     i32.store8 offset=5
     local.get $1
     local.get $7
     i32.store8 offset=6
     local.get $1
     i32.const 7
     i32.add
    else
     local.get $1
     local.get $3
     i32.const 16
     i32.shr_u
     i32.store8 offset=3
     local.get $1
     local.get $3
     i32.const 8
     i32.shr_u
     i32.store8 offset=4
     local.get $1
     local.get $3
     i32.store8 offset=5
     local.get $1
     local.get $7
     i32.store8 offset=6
     local.get $1
     local.get $8
     i32.store offset=7
     local.get $1
     i32.const 11
     i32.add
    end
    local.set $1
    local.get $13
    if
     local.get $1
     local.get $9
     i32.const -16711936
     i32.and
     i32.const 8
     i32.rotl
     local.get $9
     i32.const 16711935
     i32.and
     i32.const 8
     i32.rotr
     i32.or
     i32.store
     local.get $1
     i32.const 4
     i32.add
     local.set $1
    end
   end
   loop $while-continue|0
    local.get $2
    local.get $12
    i32.lt_s
    if
     local.get $0
     i32.eqz
     if
      block $__inlined_func$wasm/assembly/chunk_write/putBasicHeader$14 (result i32)
       local.get $5
       i32.const 64
       i32.lt_s
       if
        local.get $1
        local.get $5
        i32.const 192
        i32.or
        i32.store8
        local.get $1
        i32.const 1
        i32.add
        br $__inlined_func$wasm/assembly/chunk_write/putBasicHeader$14
       end
       local.get $5
       i32.const -64
       i32.add
       local.set $0
       local.get $5
       i32.const 320
       i32.lt_s
       if
        local.get $1
        i32.const 192
        i32.store8
        local.get $1
        local.get $0
        i32.store8 offset=1
        local.get $1
        i32.const 2
        i32.add
        br $__inlined_func$wasm/assembly/chunk_write/putBasicHeader$14
       end
       local.get $1
       i32.const 193
       i32.store8
       local.get $1
       local.get $0
       i32.store8 offset=1
       local.get $1
       local.get $0
       i32.const 8
       i32.shr_s
       i32.store8 offset=2
       local.get $1
       i32.const 3
       i32.add
      end
      local.set $1
      local.get $13
      if
       local.get $1
       local.get $9
       i32.const -16711936
       i32.and
       i32.const 8
       i32.rotl
       local.get $9
       i32.const 16711935
       i32.and
       i32.const 8
       i32.rotr
       i32.or
       i32.store
       local.get $1
       i32.const 4
       i32.add
       local.set $1
      end
      local.get $4
      local.set $0
     end
     local.get $1
     local.get $11
     local.get $0
     local.get $12
     local.get $2
     i32.sub
     local.tee $3
     local.get $0
     local.get $3
     i32.lt_s
     select
     local.tee $3
     memory.copy
     local.get $1
     local.get $3
     i32.add
     local.set $1
     local.get $3
     local.get $11
     i32.add
     local.set $11
     local.get $2
     local.get $3
     i32.add
     local.set $2
     local.get $0
     local.get $3
     i32.sub
     local.set $0
     br $while-continue|0
    end
   end
   local.get $1
   i32.const 10485760
   i32.sub
   return
  end
  i32.const -8
 )
 (func $wasm/assembly/chunk_parse/chunkResume (result i32)
  (local $0 i32)
  i32.const 1064
  i32.load
  local.tee $0
  if
   local.get $0
   return
  end
  i32.const 1040
  i32.load
  i32.eqz
  if
   i32.const 0
   return
  end
  i32.const 1044
  i32.load
  i32.const 1048
  i32.load
  call $wasm/assembly/chunk_parse/run
 )
 (func $wasm/assembly/chunk_parse/chunkParse (param $0 i32) (result i32)
  (local $1 i32)
  i32.const 1064
  i32.load
  local.tee $1
  if
   local.get $1
   return
  end
  local.get $0
  i32.const 0
  i32.lt_s
  local.get $0
  i32.const 98272
  i32.gt_s
  i32.or
  if
   i32.const -5
   return
  end
  i32.const 1036
  i32.load
  local.set $1
  i32.const 1036
  i32.const 0
  i32.store
  i32.const 32800
  local.get $1
  i32.sub
  local.get $0
  i32.const 32800
  i32.add
  call $wasm/assembly/chunk_parse/run
 )
 (func $wasm/assembly/chunk_parse/chunkInit (param $0 i32) (param $1 i32) (result i32)
  local.get $0
  i32.const 0
  i32.lt_s
  local.get $0
  i32.const 9437184
  i32.gt_s
  i32.or
  if
   i32.const -8
   return
  end
  local.get $1
  i32.const 0
  i32.le_s
  local.get $1
  i32.const 16777215
  i32.gt_s
  i32.or
  if
   i32.const -8
   return
  end
  i32.const 1024
  i32.const 0
  i32.const 3136
  memory.fill
  i32.const 1024
  i32.const 128
  i32.store
  i32.const 1028
  local.get $0
  i32.store
  i32.const 1032
  local.get $1
  i32.store
  i32.const 0
 )
)
