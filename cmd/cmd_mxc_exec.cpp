#include <cstdio>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "mxc/runtime/mxc_exec.hpp"
#include "mxc/sys/file_util.hpp"

namespace mxc::cli {

Command make_mxc_exec_command() {
  return {{"mxc-exec",
           "[CONFIG]",
           "Run one MXC wire configuration (0.6 to 0.9) in a temporary container; exit with its "
           "status (1: bad request, 125: infrastructure error as JSON on stderr, 255: timed out).",
           {{"config-base64", '\0', true, "B64", "the configuration, base64-encoded"},
            {"dry-run", '\0', false, "", "validate only: exit 0 and print nothing when valid"}},
           0,
           1},
          [](const Invocation& inv) {
            const bool inline_config = !inv.args.value("config-base64").empty();
            if (inline_config == !inv.args.args.empty()) {
              return fail(inv,
                          make_error("mxc-exec: give exactly one of CONFIG or --config-base64"));
            }
            runtime::MxcExecRequest req;
            req.dry_run = inv.args.flag("dry-run");
            if (inline_config) {
              req.label = "--config-base64";
              auto text = spec::decode_base64(inv.args.value("config-base64"), req.label);
              if (!text) return fail(inv, text.error());
              req.text = std::move(*text);
            } else {
              req.label = inv.args.args[0];
              auto text = sys::read_file(req.label);
              if (!text) return fail(inv, text.error());
              req.text = std::move(*text);
            }
            auto out = runtime::mxc_exec(inv.ctx, req);
            switch (out.kind) {
              case runtime::MxcExecOutcome::Kind::kExited:
                return out.exit_code;
              case runtime::MxcExecOutcome::Kind::kTimedOut:
                std::fprintf(stderr, "timed out\n");
                return out.exit_code;
              case runtime::MxcExecOutcome::Kind::kRequestError:
                return fail(inv, make_error(out.message));
              case runtime::MxcExecOutcome::Kind::kInfraError:
                break;
            }
            nlohmann::json j{{"error", {{"code", out.code}, {"message", out.message}}}};
            std::fprintf(stderr, "%s\n", j.dump().c_str());
            return out.exit_code;
          }};
}

}  // namespace mxc::cli
