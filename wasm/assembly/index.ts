// The export list is the ABI: everything the host may call or read.
export * from "./abi";
export * from "./chunk_parse";
export * from "./chunk_write";
export * from "./nal_scan";
export * from "./flv_tag";
export * from "./ts_packet";
export * from "./rtp_packet";
