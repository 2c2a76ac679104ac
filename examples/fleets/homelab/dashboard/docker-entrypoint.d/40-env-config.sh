#!/bin/sh
# Expose runtime settings to the SPA without rebuilding the image.
set -eu
cat > /usr/share/nginx/html/env.js <<JS
window.__ENV__ = {
  API_URL: "${API_URL}",
  APP_TITLE: "${APP_TITLE:-Homelab}",
  REFRESH_INTERVAL_SECONDS: ${REFRESH_INTERVAL_SECONDS:-30}
};
JS
