#include "mxc/proxy/http_request.hpp"

#include <algorithm>
#include <charconv>

namespace mxc::proxy {
namespace {

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 token characters (method, header names).
bool is_token(std::string_view s) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

bool has_ctl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

}  // namespace

size_t find_head_end(std::string_view buf) {
  auto pos = buf.find("\r\n\r\n");
  return pos == std::string_view::npos ? 0 : pos + 4;
}

Result<HttpRequest> parse_request_head(std::string_view head) {
  if (!head.ends_with("\r\n\r\n")) return make_error("request head is not terminated");
  head.remove_suffix(2);  // keep one CRLF per line
  HttpRequest req;
  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return make_error("malformed request line");
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  req.version = line.substr(sp2 + 1);
  if (!is_token(req.method)) return make_error("malformed request method");
  if (req.target.empty() || req.target.find(' ') != std::string::npos || has_ctl(req.target)) {
    return make_error("malformed request target");
  }
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") {
    return make_error("unsupported HTTP version \"" + req.version + "\"");
  }
  while (!head.empty()) {
    eol = head.find("\r\n");
    line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (line.empty() || line.front() == ' ' || line.front() == '\t') {
      return make_error("obsolete header line folding");
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return make_error("header line without a colon");
    auto name = line.substr(0, colon);
    auto value = trim(line.substr(colon + 1));
    if (!is_token(name)) return make_error("malformed header name");
    if (has_ctl(value)) return make_error("control character in header " + std::string(name));
    req.headers.emplace_back(name, value);
  }
  return req;
}

Result<Destination> parse_authority(std::string_view authority, uint16_t default_port) {
  Destination d;
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return make_error("unterminated [IPv6] in authority");
    d.host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return make_error("garbage after [IPv6] in authority");
      port = rest.substr(1);
      if (port.empty()) return make_error("empty port in authority");
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      if (authority.find(':') != colon) return make_error("IPv6 address must be in brackets");
      port = authority.substr(colon + 1);
      if (port.empty()) return make_error("empty port in authority");
      authority = authority.substr(0, colon);
    }
    d.host = authority;
  }
  if (d.host.empty()) return make_error("empty host in authority");
  if (port.empty()) {
    if (default_port == 0) return make_error("authority needs a port (host:port)");
    d.port = default_port;
    return d;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535 ||
      port.size() > 5) {
    return make_error("invalid port \"" + std::string(port) + "\"");
  }
  d.port = static_cast<uint16_t>(value);
  return d;
}

Result<AbsoluteUri> parse_absolute_uri(std::string_view target) {
  if (istarts_with(target, "https://")) {
    return make_error("https:// is not forwarded as plain HTTP: use CONNECT");
  }
  if (!istarts_with(target, "http://")) {
    return make_error("request target must be an absolute http:// URI");
  }
  target.remove_prefix(7);
  auto path_start = target.find_first_of("/?#");
  AbsoluteUri uri;
  uri.authority = target.substr(0, path_start);
  if (uri.authority.find('@') != std::string::npos) {
    return make_error("userinfo in the request URI is not supported");
  }
  auto d = parse_authority(uri.authority, 80);
  if (!d) return d.error();
  uri.dest = std::move(*d);
  std::string_view rest =
      path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  uri.origin_form = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : rest;
  return uri;
}

std::string origin_request_head(const HttpRequest& req, const AbsoluteUri& uri) {
  // Headers that Connection names are hop-by-hop too.
  std::vector<std::string> named;
  for (const auto& [name, value] : req.headers) {
    if (!iequals(name, "Connection")) continue;
    std::string_view v = value;
    while (!v.empty()) {
      auto comma = v.find(',');
      auto tok = trim(v.substr(0, comma));
      if (!tok.empty()) named.emplace_back(tok);
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    }
  }
  auto drop = [&](std::string_view name) {
    if (iequals(name, "Connection") || iequals(name, "Keep-Alive") || iequals(name, "Host") ||
        istarts_with(name, "Proxy-")) {
      return true;
    }
    return std::any_of(named.begin(), named.end(),
                       [&](const std::string& n) { return iequals(n, name); });
  };
  std::string out;
  out.reserve(256 + req.target.size());
  out += req.method + " " + uri.origin_form + " " + req.version + "\r\n";
  out += "Host: " + uri.authority + "\r\n";
  for (const auto& [name, value] : req.headers) {
    if (drop(name)) continue;
    out += name + ": " + value + "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  return out;
}

std::string http_response(int status, std::string_view reason, std::string_view body) {
  std::string b(body);
  b += "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(b.size()) +
         "\r\nConnection: close\r\n\r\n" + b;
}

}  // namespace mxc::proxy
