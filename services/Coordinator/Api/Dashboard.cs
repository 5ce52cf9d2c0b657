using Microsoft.Extensions.FileProviders;

namespace Sync.Coordinator.Api;

/// <summary>
/// The operator's web page at /dashboard/ (and / redirects there): plain HTML, CSS and JavaScript
/// embedded in the assembly (wwwroot/), so the page ships with the binary and needs no network,
/// no CDN and no build step. It reads and changes through the HTTP API only.
/// </summary>
internal static class Dashboard
{
    public const string Path = "/dashboard";

    public static WebApplication UseDashboard(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(Dashboard).Assembly, "Sync.Coordinator.wwwroot");
        // A middleware, not an endpoint: routing tolerates a trailing slash, so an endpoint for
        // /dashboard would also match /dashboard/ and take it from the static files (a redirect loop).
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value;
            if (HttpMethods.IsGet(context.Request.Method) && path is "/" or Path)
            {
                context.Response.Redirect($"{Path}/");
                return Task.CompletedTask;
            }

            return next(context);
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = Path,
            OnPrepareResponse = context =>
            {
                // Everything the page needs comes from this server: nothing inline, nothing remote.
                context.Context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
                context.Context.Response.Headers.CacheControl = "no-cache";
            },
        });
        return app;
    }
}
