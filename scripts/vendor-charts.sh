#!/usr/bin/env bash
# Refresh the charting library the HTML report inlines (src/dealgate/report/assets/vendor/)
# from the npm registry: scripts/vendor-charts.sh 4.6.1 3.1.0
set -euo pipefail
chartjs="${1:?chart.js version}"
matrix="${2:?chartjs-chart-matrix version}"
vendor="$(cd "$(dirname "$0")/.." && pwd)/src/dealgate/report/assets/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "chart.js@$chartjs" "chartjs-chart-matrix@$matrix" >/dev/null
tar xzf "chart.js-$chartjs.tgz" && mv package chartjs
tar xzf "chartjs-chart-matrix-$matrix.tgz" && mv package matrix
cp chartjs/dist/chart.umd.min.js "$vendor/chart.umd.min.js"
cp chartjs/LICENSE.md "$vendor/chart.js.LICENSE.md"
cp matrix/dist/chartjs-chart-matrix.min.js "$vendor/chartjs-chart-matrix.min.js"
cp matrix/LICENSE "$vendor/chartjs-chart-matrix.LICENSE"
echo "vendored chart.js $chartjs and chartjs-chart-matrix $matrix; update $vendor/README.md"
