import { useEffect, useState } from 'preact/hooks';

// Pages are addressed by the URL's hash (`#/project/verra:1340`), so links can be shared and the server
// serves one page.

export type Route = { page: string; param: string | undefined; query: URLSearchParams };

function parse(): Route {
  const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [page = 'overview', ...rest] = path.split('/');
  return { page: page || 'overview', param: rest.length ? decodeURIComponent(rest.join('/')) : undefined, query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const listener = () => {
      setRoute(parse());
      window.scrollTo(0, 0);
    };
    addEventListener('hashchange', listener);
    return () => removeEventListener('hashchange', listener);
  }, []);
  return route;
}

export const href = (page: string, param?: string, query?: Record<string, string>) =>
  `#/${page}${param ? `/${encodeURIComponent(param)}` : ''}${query && Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`;
