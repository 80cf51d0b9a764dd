/**
 * RTSP status codes and their reason phrases (RFC 2326 7.1.1, plus 431 from
 * RFC 6585 5), and `RtspError`: the ProtocolError every RTSP parser here
 * throws, carrying the status a server answers before it closes the
 * connection (400 for a malformed message, 413 for a body or frame over its
 * cap, 414 for a request line over its cap, 431 for headers over theirs, 505
 * for a version other than RTSP/1.0, 457 for a Range it cannot read).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";

/** Status codes (RFC 2326 7.1.1 unless noted). */
export const RtspStatus = {
  /** 100 (7.1.1; HTTP/1.1 10.1.1). */
  Continue: 100,
  /** 200 (7.1.1). */
  Ok: 200,
  /** 201 (7.1.1). */
  Created: 201,
  /** 250 (11.1.1): RECORD with little storage left. */
  LowOnStorageSpace: 250,
  /** 300 (7.1.1). */
  MultipleChoices: 300,
  /** 301 (11.2.1): REDIRECT elsewhere for good. */
  MovedPermanently: 301,
  /** 302 (11.2.2): elsewhere for now. */
  MovedTemporarily: 302,
  /** 303 (7.1.1). */
  SeeOther: 303,
  /** 304 (7.1.1). */
  NotModified: 304,
  /** 305 (11.2.3). */
  UseProxy: 305,
  /** 400 (7.1.1): the request could not be understood. */
  BadRequest: 400,
  /** 401 (7.1.1): credentials needed; the answer carries WWW-Authenticate. */
  Unauthorized: 401,
  /** 402 (7.1.1). */
  PaymentRequired: 402,
  /** 403 (7.1.1). */
  Forbidden: 403,
  /** 404 (7.1.1). */
  NotFound: 404,
  /** 405 (11.3.1): the method is not allowed on this resource; the answer carries Allow. */
  MethodNotAllowed: 405,
  /** 406 (7.1.1). */
  NotAcceptable: 406,
  /** 407 (7.1.1). */
  ProxyAuthenticationRequired: 407,
  /** 408 (7.1.1). */
  RequestTimeout: 408,
  /** 410 (7.1.1). */
  Gone: 410,
  /** 411 (7.1.1): a body without Content-Length. */
  LengthRequired: 411,
  /** 412 (7.1.1). */
  PreconditionFailed: 412,
  /** 413 (7.1.1): the body is larger than the server takes. */
  RequestEntityTooLarge: 413,
  /** 414 (7.1.1): the request line (its URI) is longer than the server takes. */
  RequestUriTooLarge: 414,
  /** 415 (7.1.1): e.g. an ANNOUNCE body that is not application/sdp. */
  UnsupportedMediaType: 415,
  /** 431 (RFC 6585 5, borrowed from HTTP): too many header fields, or too many header bytes. */
  RequestHeaderFieldsTooLarge: 431,
  /** 451 (11.3.2): a SET_PARAMETER or GET_PARAMETER parameter the server does not know. */
  ParameterNotUnderstood: 451,
  /** 452 (11.3.3). */
  ConferenceNotFound: 452,
  /** 453 (11.3.4). */
  NotEnoughBandwidth: 453,
  /** 454 (11.3.5): the Session header names no session the server has. */
  SessionNotFound: 454,
  /** 455 (11.3.6): e.g. PLAY before SETUP. */
  MethodNotValidInThisState: 455,
  /** 456 (11.3.7). */
  HeaderFieldNotValidForResource: 456,
  /** 457 (11.3.8): the Range is out of bounds or unreadable. */
  InvalidRange: 457,
  /** 458 (11.3.9). */
  ParameterIsReadOnly: 458,
  /** 459 (11.3.10): the method cannot apply to the whole aggregate. */
  AggregateOperationNotAllowed: 459,
  /** 460 (11.3.11): the method applies only to the aggregate, not a track. */
  OnlyAggregateOperationAllowed: 460,
  /** 461 (11.3.12): no transport in the client's Transport header is one the server does. */
  UnsupportedTransport: 461,
  /** 462 (11.3.13). */
  DestinationUnreachable: 462,
  /** 500 (7.1.1). */
  InternalServerError: 500,
  /** 501 (7.1.1): a method the server does not implement. */
  NotImplemented: 501,
  /** 502 (7.1.1). */
  BadGateway: 502,
  /** 503 (7.1.1): e.g. over a connection or session limit. */
  ServiceUnavailable: 503,
  /** 504 (7.1.1). */
  GatewayTimeout: 504,
  /** 505 (7.1.1): a version other than RTSP/1.0. */
  RtspVersionNotSupported: 505,
  /** 551 (11.4.1): a Require option the server does not support. */
  OptionNotSupported: 551,
} as const;
export type RtspStatus = typeof RtspStatus[keyof typeof RtspStatus];

/** Reason phrases, spelled as RFC 2326 7.1.1 spells them (431 as RFC 6585 5 does); clients ignore their case. */
export const STATUS_TEXT: Readonly<Record<RtspStatus, string>> = {
  [RtspStatus.Continue]: "Continue",
  [RtspStatus.Ok]: "OK",
  [RtspStatus.Created]: "Created",
  [RtspStatus.LowOnStorageSpace]: "Low on Storage Space",
  [RtspStatus.MultipleChoices]: "Multiple Choices",
  [RtspStatus.MovedPermanently]: "Moved Permanently",
  [RtspStatus.MovedTemporarily]: "Moved Temporarily",
  [RtspStatus.SeeOther]: "See Other",
  [RtspStatus.NotModified]: "Not Modified",
  [RtspStatus.UseProxy]: "Use Proxy",
  [RtspStatus.BadRequest]: "Bad Request",
  [RtspStatus.Unauthorized]: "Unauthorized",
  [RtspStatus.PaymentRequired]: "Payment Required",
  [RtspStatus.Forbidden]: "Forbidden",
  [RtspStatus.NotFound]: "Not Found",
  [RtspStatus.MethodNotAllowed]: "Method Not Allowed",
  [RtspStatus.NotAcceptable]: "Not Acceptable",
  [RtspStatus.ProxyAuthenticationRequired]: "Proxy Authentication Required",
  [RtspStatus.RequestTimeout]: "Request Time-out",
  [RtspStatus.Gone]: "Gone",
  [RtspStatus.LengthRequired]: "Length Required",
  [RtspStatus.PreconditionFailed]: "Precondition Failed",
  [RtspStatus.RequestEntityTooLarge]: "Request Entity Too Large",
  [RtspStatus.RequestUriTooLarge]: "Request-URI Too Large",
  [RtspStatus.UnsupportedMediaType]: "Unsupported Media Type",
  [RtspStatus.RequestHeaderFieldsTooLarge]: "Request Header Fields Too Large",
  [RtspStatus.ParameterNotUnderstood]: "Parameter Not Understood",
  [RtspStatus.ConferenceNotFound]: "Conference Not Found",
  [RtspStatus.NotEnoughBandwidth]: "Not Enough Bandwidth",
  [RtspStatus.SessionNotFound]: "Session Not Found",
  [RtspStatus.MethodNotValidInThisState]: "Method Not Valid in This State",
  [RtspStatus.HeaderFieldNotValidForResource]: "Header Field Not Valid for Resource",
  [RtspStatus.InvalidRange]: "Invalid Range",
  [RtspStatus.ParameterIsReadOnly]: "Parameter Is Read-Only",
  [RtspStatus.AggregateOperationNotAllowed]: "Aggregate operation not allowed",
  [RtspStatus.OnlyAggregateOperationAllowed]: "Only aggregate operation allowed",
  [RtspStatus.UnsupportedTransport]: "Unsupported transport",
  [RtspStatus.DestinationUnreachable]: "Destination unreachable",
  [RtspStatus.InternalServerError]: "Internal Server Error",
  [RtspStatus.NotImplemented]: "Not Implemented",
  [RtspStatus.BadGateway]: "Bad Gateway",
  [RtspStatus.ServiceUnavailable]: "Service Unavailable",
  [RtspStatus.GatewayTimeout]: "Gateway Time-out",
  [RtspStatus.RtspVersionNotSupported]: "RTSP Version not supported",
  [RtspStatus.OptionNotSupported]: "Option not supported",
};

/** The reason phrase of a status; a code outside the table gets its class's ("Client Error" for 4xx...). */
export function statusText(status: number): string {
  if (Object.hasOwn(STATUS_TEXT, status)) return STATUS_TEXT[status as RtspStatus];
  return STATUS_CLASS_TEXT[Math.floor(status / 100)] ?? "Unknown";
}

/** RFC 2326 7.1.1: a client treats an unknown code as x00 of its class; these name the classes. */
const STATUS_CLASS_TEXT: Readonly<Record<number, string>> = {
  1: "Informational",
  2: "Success",
  3: "Redirection",
  4: "Client Error",
  5: "Server Error",
};

/**
 * What a peer sent breaks RTSP: `status` is the answer a server gives (the
 * connection is then closed), `code` a short name of the rule broken
 * ("rtsp_header_bytes", "rtsp_version", ...), the message says what and the
 * value and limit where there is one.
 */
export class RtspError extends ProtocolError {
  /** The status to answer with. */
  readonly status: RtspStatus;

  constructor(status: RtspStatus, code: string, detail: string, options?: ErrorOptions) {
    super(code, detail, options);
    this.name = "RtspError";
    this.status = status;
  }
}
