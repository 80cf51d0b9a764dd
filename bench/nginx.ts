/**
 * nginx with the RTMP module for the live benchmark, as one process (one
 * worker, no master) in a temporary prefix: RTMP on a port, and with
 * `httpPort` also nginx-rtmp's HLS (MPEG-TS fragments written to files by the
 * RTMP module) served from those files by nginx's own HTTP module (sendfile,
 * keep-alive), as nginx-rtmp deployments do.
 *
 * @module
 */
import { has, spawn, waitPort } from "./proc.ts";

export const NGINX_RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/** nginx-rtmp's HLS settings the bench uses (its directives, ngx_rtmp_hls_module). */
export const NginxHls = {
  /** hls_fragment: a fragment is cut at the first keyframe this long after its start. */
  fragment: "2s",
  /** hls_playlist_length: the playlist's window. */
  playlistLength: "12s",
  /** The HTTP location the fragments and the playlist are served under. */
  location: "/hls/",
} as const;

/** Whether nginx and its RTMP module are installed. */
export async function hasNginxRtmp(): Promise<boolean> {
  return await has("nginx") && await Deno.stat(NGINX_RTMP_MODULE).then(() => true, () => false);
}

/** The nginx.conf of a bench run in prefix `dir`: RTMP on `port`; HLS over HTTP on `httpPort` when given. */
export function nginxConfig(dir: string, port: number, httpPort?: number): string {
  const hls = httpPort === undefined
    ? ""
    : ` hls on; hls_path ${dir}/hls; hls_fragment ${NginxHls.fragment}; ` +
      `hls_playlist_length ${NginxHls.playlistLength};`;
  const rtmp =
    `rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on;${hls} } } }\n`;
  const http = httpPort === undefined ? "" : `http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/tmp_body;
  proxy_temp_path ${dir}/tmp_proxy;
  fastcgi_temp_path ${dir}/tmp_fastcgi;
  uwsgi_temp_path ${dir}/tmp_uwsgi;
  scgi_temp_path ${dir}/tmp_scgi;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server {
    listen 127.0.0.1:${httpPort};
    location ${NginxHls.location} { alias ${dir}/hls/; add_header Cache-Control no-cache; }
  }
}
`;
  return `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 8192; }
${rtmp}${http}`;
}

/** Starts nginx-rtmp (see nginxConfig) pinned to `pin`; `stop()` ends it and removes its prefix. */
export async function startNginx(
  port: number,
  pin?: string,
  httpPort?: number,
): Promise<{ pid: number; stop: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-nginx-" });
  if (httpPort !== undefined) await Deno.mkdir(`${dir}/hls`);
  await Deno.writeTextFile(`${dir}/nginx.conf`, nginxConfig(dir, port, httpPort));
  const child = spawn(`nginx -p ${dir} -c ${dir}/nginx.conf`, pin);
  await waitPort(port);
  if (httpPort !== undefined) await waitPort(httpPort);
  child.stdout.cancel();
  const drain = child.stderr.pipeTo(new WritableStream());
  return {
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await drain.catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}
