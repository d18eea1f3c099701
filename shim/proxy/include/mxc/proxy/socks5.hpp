// SOCKS5 (RFC 1928) as the egress proxy speaks it: no authentication, CONNECT only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mxc/proxy/domain_rules.hpp"

namespace mxc::proxy::socks5 {

inline constexpr uint8_t kVersion = 0x05;
inline constexpr uint8_t kNoAuth = 0x00;
inline constexpr uint8_t kNoAcceptableMethod = 0xff;

enum Reply : uint8_t {
  kSucceeded = 0x00,
  kGeneralFailure = 0x01,
  kNotAllowed = 0x02,  // "connection not allowed by ruleset"
  kNetworkUnreachable = 0x03,
  kHostUnreachable = 0x04,
  kConnectionRefused = 0x05,
  kTtlExpired = 0x06,
  kCommandNotSupported = 0x07,
  kAddressTypeNotSupported = 0x08,
};

enum Command : uint8_t { kConnect = 0x01, kBind = 0x02, kUdpAssociate = 0x03 };
enum AddressType : uint8_t { kIpv4 = 0x01, kDomain = 0x03, kIpv6 = 0x04 };

enum class Parse { incomplete, ok, bad };

// VER NMETHODS METHODS...: on ok, `consumed` bytes and whether "no auth" was offered.
Parse parse_greeting(std::string_view buf, size_t& consumed, bool& no_auth_offered);

struct Request {
  uint8_t command = 0;
  uint8_t address_type = 0;
  std::string host;  // domain as sent, or the address as text
  uint16_t port = 0;
};
// VER CMD RSV ATYP DST.ADDR DST.PORT. On bad, `reply` is the code to answer with
// (general failure for garbage, address type not supported for an unknown ATYP).
Parse parse_request(std::string_view buf, size_t& consumed, Request& out, Reply& reply);

// VER REP RSV ATYP BND.ADDR BND.PORT; the bound address is 0.0.0.0:0 when absent.
std::string reply(Reply code, const IpAddress* bound = nullptr, uint16_t bound_port = 0);

}  // namespace mxc::proxy::socks5
