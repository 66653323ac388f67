#!/usr/bin/env bash
# Offline check of the SST infrastructure (sst.config.ts + infra/), for CI.
#
# 1. `sst install` writes the SST platform's type declarations to .sst/platform/ and npm-installs
#    the platform's dependencies (Pulumi AWS provider types, ~300 MB) from the npm registry only.
#    SST_SKIP_DEPENDENCY_CHECK=1 stops it downloading Pulumi and Bun from GitHub; no AWS access.
# 2. `tsc --noEmit -p infra/tsconfig.json` type-checks sst.config.ts and infra/ against those
#    declarations: a misspelled component or resource property (CronV2 `timeZone`, MetricAlarm
#    `evaluationPeriod`) or a wrong value type fails the build.
# The pure helpers behind infra (infra/lib) are unit-tested by vitest in test/infra.
# Nothing is cached outside the repo; .sst/ is gitignored. Prints its duration; non-zero on failure.
set -euo pipefail

cd "$(dirname "$0")/.."
start=$(date +%s)
stage="${PARTKEEPER_CHECK_STAGE:-ci}"

echo "check-infra: installing the SST platform offline (stage ${stage})"
install_start=$(date +%s)
SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 npx --no-install sst install --stage "$stage"
if [[ ! -f .sst/platform/config.d.ts ]]; then
  echo "check-infra: sst install did not write .sst/platform/config.d.ts" >&2
  exit 1
fi
install_end=$(date +%s)

echo "check-infra: type-checking sst.config.ts and infra/"
npx --no-install tsc --noEmit -p infra/tsconfig.json
end=$(date +%s)

echo "check-infra: ok in $((end - start)) s (sst install $((install_end - install_start)) s, tsc $((end - install_end)) s)"
