// The egress proxy as a shim service: its listening socket lives in the
// container's network namespace (made there by a short-lived thread that
// enters it with setns), while the proxy serves it from the shim's own
// namespace, so every upstream connection leaves from the host side and the
// container needs no route out. When the shim dies the socket goes with it:
// the container keeps only its loopback.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "mxc/runtime/audit_log.hpp"
#include "shim_config.hpp"
#include "supervisor.hpp"

namespace mxc::shim {

Result<std::unique_ptr<Service>> start_proxy_service(boost::asio::io_context& io,
                                                     const ShimConfig& config,
                                                     const runtime::AuditContext& audit);

}  // namespace mxc::shim
