# One image for each Sync service, chosen by the SERVICE build argument: Coordinator, Extractor,
# Transformer or Loader (the folder under services/).
#
# The app is published on the host first (framework-dependent, ReadyToRun, for linux-x64: the same
# publish `./run test` makes for the end-to-end tests) and only copied in here: the machines Sync is
# built on reach NuGet but not mcr.microsoft.com, so there is no SDK image to publish in.
# `./run containers up` does both steps (scripts/containers.sh); by hand, from the repository root:
#   dotnet publish services/Loader/Sync.Loader.csproj -c Release -r linux-x64 --self-contained false \
#     -p:PublishReadyToRun=true -o .sync/containers/publish/Loader
#   docker build --build-arg SERVICE=Loader -t sync-loader .
#
# BASE_IMAGE: Microsoft's aspnet runtime image where its registry is reachable; on these machines
# the local stand-in deploy/dotnet-runtime/Dockerfile, built from a debootstrapped Debian and the
# host's .NET runtime. Either way it has the runtimes in /usr/share/dotnet and the user 1654 ("app").
ARG BASE_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
FROM ${BASE_IMAGE}
ARG SERVICE
# Where the host's publish put the four apps, relative to the build context (.dockerignore lets
# only this folder in).
ARG PUBLISH_DIR=.sync/containers/publish
WORKDIR /app
COPY ${PUBLISH_DIR}/${SERVICE}/ ./
RUN test -x "/app/Sync.$SERVICE" \
    || { echo "no /app/Sync.$SERVICE: SERVICE must be Coordinator, Extractor, Transformer or Loader, published into $PUBLISH_DIR/$SERVICE first" >&2; exit 1; } \
    && ln -s "Sync.$SERVICE" /app/service
# The Coordinator serves its API on 8080 (docker-compose.yml sets ASPNETCORE_URLS). The app host
# finds the runtime through DOTNET_ROOT.
ENV DOTNET_RUNNING_IN_CONTAINER=true DOTNET_ROOT=/usr/share/dotnet
USER 1654
ENTRYPOINT ["/app/service"]
