# One image for each Sync service, chosen by the SERVICE build argument: Coordinator, Extractor,
# Transformer or Loader (the folder under services/). Build from the repository root, as
# docker-compose.yml does:
#   docker build --build-arg SERVICE=Loader -t sync-loader .

# The project files alone (every *.csproj and *.props under shared/ and services/), so the
# restore layer below is reused until a project or package changes, and a new project needs no
# line here.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS projects
WORKDIR /src
COPY shared/ shared/
COPY services/ services/
RUN find . -type f ! -name '*.csproj' ! -name '*.props' -delete && find . -type d -empty -delete

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG SERVICE
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY --from=projects /src ./
RUN test -f "services/$SERVICE/Sync.$SERVICE.csproj" \
    || { echo "SERVICE must name a folder under services/ (Coordinator, Extractor, Transformer, Loader); got '$SERVICE'" >&2; exit 1; }
RUN dotnet restore "services/$SERVICE/Sync.$SERVICE.csproj"

COPY shared/ shared/
COPY services/$SERVICE/ services/$SERVICE/
RUN dotnet publish "services/$SERVICE/Sync.$SERVICE.csproj" -c Release -o /app --no-restore

# The aspnet runtime, not the plain one, for every service: shared/Sync.ServiceDefaults has a
# FrameworkReference to Microsoft.AspNetCore.App, so each service's runtimeconfig requires it.
# The Coordinator serves its API on the image's default port, 8080.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
ARG SERVICE
ENV SYNC_SERVICE_ASSEMBLY=Sync.${SERVICE}.dll
WORKDIR /app
COPY --from=build /app ./
# Non-root: APP_UID is the image's "app" user.
USER $APP_UID
# exec: dotnet becomes PID 1 and receives docker stop's SIGTERM, as with a plain ["dotnet", …].
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet \"$SYNC_SERVICE_ASSEMBLY\" \"$@\"", "--"]
