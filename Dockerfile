# One image for each Sync service, chosen by the SERVICE build argument: Coordinator, Extractor,
# Transformer or Loader (the folder under services/).
#
# The app is published self-contained for linux-x64 on the host first and only copied in here:
# the machines Sync is built on reach NuGet but not mcr.microsoft.com, so there is no SDK image to
# publish in (and no aspnet runtime image to run on); a self-contained app needs the .NET runtime
# from nowhere, only the native libraries of runtime-deps. `./run containers up` does both steps
# (scripts/containers.sh); by hand, from the repository root:
#   dotnet publish services/Loader/Sync.Loader.csproj -c Release -r linux-x64 --self-contained \
#     -o .sync/containers/publish/Loader
#   docker build --build-arg SERVICE=Loader -t sync-loader .
#
# BASE_IMAGE: Microsoft's runtime-deps image where its registry is reachable; on these machines the
# local stand-in deploy/runtime-deps/Dockerfile builds from a debootstrapped Debian. Either way it
# must have the user 1654 (runtime-deps' "app").
ARG BASE_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0
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
# The Coordinator serves its API on 8080 (docker-compose.yml sets ASPNETCORE_URLS).
ENV DOTNET_RUNNING_IN_CONTAINER=true
USER 1654
ENTRYPOINT ["/app/service"]
