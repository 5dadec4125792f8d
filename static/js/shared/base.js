// Where this server lives: "/" or, behind a proxy, its prefix ("/backprop/"). The page's
// template names it (<meta name="backprop-live-base">); every URL the page makes starts here, so
// none is absolute from "/".
const meta = typeof document === 'undefined' ? null : document.querySelector('meta[name="backprop-live-base"]');
export const BASE_PATH = (meta && meta.content) || '/';

/** The path of `relative` ("api/graphs", "socket.io") on this server. */
export const serverPath = (relative) => BASE_PATH + relative.replace(/^\//, '');
