import { render } from 'preact';
import { useState } from 'preact/hooks';
import { apiKey, setApiKey } from './api.ts';
import { Loaded, useQuery } from './components/states.tsx';
import { getLocale, setLocale, useI18n, type Key } from './i18n.ts';
import { Article6 } from './pages/article6.tsx';
import { Downloads } from './pages/downloads.tsx';
import { Findings } from './pages/findings.tsx';
import { Lookup } from './pages/lookup.tsx';
import { Overview } from './pages/overview.tsx';
import { ProjectPage } from './pages/project.tsx';
import { Projects } from './pages/projects.tsx';
import { Sources } from './pages/sources.tsx';
import { Upload } from './pages/upload.tsx';
import { href, useRoute } from './router.ts';

// The dashboard: a header with the pages, the language switch and the API key, and the page the URL names.

export type Viewer = { role: string; organization: { slug: string; name: string; nameJa: string | null; country: string | null } | null };

const PAGES: { page: string; label: Key }[] = [
  { page: 'overview', label: 'navOverview' },
  { page: 'projects', label: 'navProjects' },
  { page: 'lookup', label: 'navLookup' },
  { page: 'findings', label: 'navFindings' },
  { page: 'article6', label: 'navArticle6' },
  { page: 'upload', label: 'navUpload' },
  { page: 'sources', label: 'navSources' },
  { page: 'downloads', label: 'navDownloads' },
];

function SignIn({ viewer, onChange }: { viewer: Viewer | undefined; onChange(): void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState('');
  if (apiKey() && viewer) {
    return (
      <div class="signin">
        <span data-testid="viewer">{viewer.organization ? `${viewer.organization.name} · ` : ''}{t(`role_${viewer.role}` as Key)}</span>
        <button type="button" class="link" onClick={() => { setApiKey(null); onChange(); }}>{t('signOut')}</button>
      </div>
    );
  }
  if (!open) return <div class="signin"><button type="button" class="link" onClick={() => setOpen(true)}>{t('signIn')}</button></div>;
  return (
    <form class="signin" onSubmit={(e) => { e.preventDefault(); setApiKey(value.trim() || null); setOpen(false); onChange(); }}>
      <label>{t('apiKey')} <input type="password" autoComplete="off" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} placeholder="tly_…" /></label>
      <button type="submit">{t('signIn')}</button>
    </form>
  );
}

function App() {
  const { t, locale } = useI18n();
  const route = useRoute();
  const [session, setSession] = useState(0);
  const viewer = useQuery<{ viewer: Viewer }>(`query Viewer { viewer { role organization { slug name nameJa country } } }`, { session });
  document.title = `Tally · ${t(PAGES.find((p) => p.page === route.page)?.label ?? 'navOverview')}`;
  let page;
  switch (route.page) {
    case 'projects': page = <Projects route={route} />; break;
    case 'project': page = <ProjectPage projectKey={route.param ?? ''} />; break;
    case 'lookup': page = <Lookup route={route} />; break;
    case 'findings': page = <Findings route={route} viewer={viewer.data?.viewer} />; break;
    case 'article6': page = <Article6 route={route} viewer={viewer.data?.viewer} />; break;
    case 'upload': page = <Upload viewer={viewer.data?.viewer} />; break;
    case 'sources': page = <Sources />; break;
    case 'downloads': page = <Downloads />; break;
    default: page = <Overview />;
  }
  return (
    <>
      <header>
        <a class="brand" href={href('overview')}>Tally</a>
        <nav aria-label={t('navLabel')}>
          {PAGES.map((p) => (
            <a key={p.page} href={href(p.page)} aria-current={route.page === p.page || (p.page === 'projects' && route.page === 'project') ? 'page' : undefined}>{t(p.label)}</a>
          ))}
        </nav>
        <div class="tools">
          <div class="language" role="group" aria-label={t('language')}>
            <button type="button" aria-pressed={locale === 'en'} onClick={() => setLocale('en')} lang="en">English</button>
            <button type="button" aria-pressed={locale === 'ja'} onClick={() => setLocale('ja')} lang="ja">日本語</button>
          </div>
          {viewer.error ? <SignIn viewer={undefined} onChange={() => setSession((n) => n + 1)} /> : <SignIn viewer={viewer.data?.viewer} onChange={() => setSession((n) => n + 1)} />}
        </div>
      </header>
      {viewer.error && apiKey() ? <main><Loaded state={viewer}>{() => null}</Loaded></main> : <main key={`${session}`}>{page}</main>}
      <footer>{t('footer')}</footer>
    </>
  );
}

document.documentElement.lang = getLocale();
const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
