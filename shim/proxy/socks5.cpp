#include "mxc/proxy/socks5.hpp"

#include <algorithm>

namespace mxc::proxy::socks5 {
namespace {
uint8_t byte_at(std::string_view b, size_t i) {
  return static_cast<uint8_t>(b[i]);
}
}  // namespace

Parse parse_greeting(std::string_view buf, size_t& consumed, bool& no_auth_offered) {
  if (buf.size() < 2) return Parse::incomplete;
  if (byte_at(buf, 0) != kVersion || byte_at(buf, 1) == 0) return Parse::bad;
  size_t n = byte_at(buf, 1);
  if (buf.size() < 2 + n) return Parse::incomplete;
  auto methods = buf.substr(2, n);
  no_auth_offered = std::find(methods.begin(), methods.end(), char(kNoAuth)) != methods.end();
  consumed = 2 + n;
  return Parse::ok;
}

Parse parse_request(std::string_view buf, size_t& consumed, Request& out, Reply& reply) {
  reply = kGeneralFailure;
  if (buf.size() < 4) return Parse::incomplete;
  if (byte_at(buf, 0) != kVersion || byte_at(buf, 2) != 0) return Parse::bad;
  out.command = byte_at(buf, 1);
  out.address_type = byte_at(buf, 3);
  size_t addr_len = 0, addr_off = 4;
  switch (out.address_type) {
    case kIpv4:
      addr_len = 4;
      break;
    case kIpv6:
      addr_len = 16;
      break;
    case kDomain:
      if (buf.size() < 5) return Parse::incomplete;
      addr_len = byte_at(buf, 4);
      addr_off = 5;
      if (addr_len == 0) return Parse::bad;
      break;
    default:
      reply = kAddressTypeNotSupported;
      return Parse::bad;
  }
  if (buf.size() < addr_off + addr_len + 2) return Parse::incomplete;
  auto addr = buf.substr(addr_off, addr_len);
  if (out.address_type == kDomain) {
    if (addr.find('\0') != std::string_view::npos) return Parse::bad;
    out.host = addr;
  } else {
    IpAddress ip;
    ip.v6 = out.address_type == kIpv6;
    std::copy(addr.begin(), addr.end(), ip.bytes.begin());
    out.host = ip.to_string();
  }
  out.port = static_cast<uint16_t>(byte_at(buf, addr_off + addr_len) << 8 |
                                   byte_at(buf, addr_off + addr_len + 1));
  consumed = addr_off + addr_len + 2;
  return Parse::ok;
}

std::string reply(Reply code, const IpAddress* bound, uint16_t bound_port) {
  std::string r{char(kVersion), char(code), 0};
  if (bound && bound->v6) {
    r.push_back(char(kIpv6));
    r.append(reinterpret_cast<const char*>(bound->bytes.data()), 16);
  } else {
    r.push_back(char(kIpv4));
    if (bound) {
      r.append(reinterpret_cast<const char*>(bound->bytes.data()), 4);
    } else {
      r.append(4, '\0');
    }
  }
  r.push_back(char(bound_port >> 8));
  r.push_back(char(bound_port & 0xff));
  return r;
}

}  // namespace mxc::proxy::socks5
