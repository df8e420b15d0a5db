# tcpscope in a container. Live capture needs the host's network namespace and raw-socket
# capabilities (see docker-compose.yml: network_mode host, cap_add NET_RAW and NET_ADMIN).

# --- build: compile the TypeScript and the libpcap binding (cap) ---
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied; cap is built just after.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild cap
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# --- run: only the runtime library, the compiled code and the dashboard ---
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY web ./web
EXPOSE 7070
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const h={};if(process.env.TCPSCOPE_TOKEN)h.authorization='Bearer '+process.env.TCPSCOPE_TOKEN;fetch('http://127.0.0.1:'+(process.env.TCPSCOPE_PORT||7070)+'/api/health',{headers:h}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/tcpscope.js"]
CMD ["live", "--listen", "127.0.0.1:7070"]
