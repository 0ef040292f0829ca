# The control plane's image (docker-compose.yml). Builds run in bubblewrap inside it.
FROM node:22-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends git bubblewrap ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
CMD ["npx", "tsx", "control-plane/src/server.ts"]
