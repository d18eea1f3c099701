// The HTTP side of the egress proxy: request heads, CONNECT authorities,
// absolute URIs, the head forwarded to the origin, and error responses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mxc/spec/result.hpp"

namespace mxc::proxy {

// Length of the head (through the blank line "\r\n\r\n") at the start of
// `buf`, or 0 when it is not complete yet.
size_t find_head_end(std::string_view buf);

struct HttpRequest {
  std::string method;
  std::string target;
  std::string version;                                       // "HTTP/1.1" or "HTTP/1.0"
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, in order
};
// The head as returned by find_head_end(). Refuses obsolete line folding,
// header lines without a colon, control characters and non-HTTP/1.x versions.
Result<HttpRequest> parse_request_head(std::string_view head);

struct Destination {
  std::string host;  // as written, IPv6 without brackets
  uint16_t port = 0;
};
// "host:port", "[v6]:port"; without a port, `default_port` (0: a port is required).
Result<Destination> parse_authority(std::string_view authority, uint16_t default_port);

struct AbsoluteUri {
  Destination dest;
  std::string authority;    // "host[:port]" for the Host header
  std::string origin_form;  // "/path?query", "/" when empty
};
// "http://host[:port]/path?query"; the scheme is case-insensitive; userinfo and
// other schemes are refused (https goes through CONNECT).
Result<AbsoluteUri> parse_absolute_uri(std::string_view target);

// The head sent upstream for a plain HTTP request: origin-form request line,
// Host from the URI, hop-by-hop headers dropped (Connection, Keep-Alive,
// Proxy-*, and those Connection names) and "Connection: close" added: the
// proxy forwards one request per client connection.
std::string origin_request_head(const HttpRequest& req, const AbsoluteUri& uri);

// A complete response with a one-line text body, closing the connection.
std::string http_response(int status, std::string_view reason, std::string_view body);

}  // namespace mxc::proxy
