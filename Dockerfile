# alm in a container: a static binary on distroless/static, as a non-root user.
#   docker build --build-arg VERSION=v1.2.3 -t alm:v1.2.3 .
#   docker run --rm alm:v1.2.3 version
# Secrets are never baked in: pass ALM_BIND_DN and ALM_BIND_PASSWORD_FILE (a
# mounted file) at run time (examples/deploy/README.md).

# The build stage's Go matches go.mod's.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is what `alm version` prints; empty falls back to the module's version.
ARG VERSION=""
# Static (CGO_ENABLED=0), no local paths (-trimpath), stripped (-s -w): the
# same flags as .goreleaser.yaml.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/alm ./cmd/alm

# distroless/static has CA certificates, /etc/passwd with nonroot (65532) and
# nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/alm /usr/local/bin/alm
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/alm"]
CMD ["--help"]
