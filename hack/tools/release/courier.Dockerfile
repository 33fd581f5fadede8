# The manager image GoReleaser builds (.goreleaser.yaml, dockers_v2) from the binaries
# it already compiled: buildx stages each platform's binary under <os>/<arch>/ in the
# build context. The repository's Dockerfile builds from source instead (make docker-build).
FROM gcr.io/distroless/static:nonroot
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/courier /courier
USER 65532:65532
ENTRYPOINT ["/courier"]
