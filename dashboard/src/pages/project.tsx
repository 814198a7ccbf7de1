import { BLOCK_FIELDS, BlocksTable, SOURCE_FIELDS, SourcesList, type BlockData, type SourceData } from '../components/blocks.tsx';
import { ChartFigure } from '../components/chart.tsx';
import { FINDING_FIELDS, FindingCard, type FindingData } from '../components/finding.tsx';
import { MIRROR_FIELDS, MirrorReports, type MirrorData } from '../components/mirrors.tsx';
import { Empty, Loaded, useQuery } from '../components/states.tsx';
import { useI18n } from '../i18n.ts';
import { href } from '../router.ts';

// A project: what the registry says, its lifecycle, blocks, links to other registries, findings, labels
// and the source records everything came from.

type Term = { code: string; label: string } | null;
type Tag = {
  code: string; label: string; subject: 'PROJECT' | 'ISSUANCE' | 'BLOCK'; count: number;
  source: { kind: 'RECORD' | 'LABEL' | 'AEF_ACTION' | 'AEF_HOLDING'; registry: string | null; text: string | null; url: string | null; private: boolean;
    organization: { name: string } | null; record: { source: string; locator: string | null } | null };
};
type Project = {
  key: string; name: string; nameJa: string | null; registryProjectId: string; registry: { name: string }; proponent: string | null;
  country: { name: string } | null; region: string | null; category: Term; projectType: Term; reductionRemoval: Term; status: { label: string };
  methodologies: string[]; methodologyRaw: string | null; creditingPeriodStart: string | null; creditingPeriodEnd: string | null;
  registeredOn: string | null; registryUrl: string | null; coveredByNdc: Term;
  estimatedAnnualQuantity: number | null; estimatedTotalQuantity: number | null; eligibility: { label: string }[]; private: boolean;
  totals: { issued: number; retired: number; cancelled: number; convertedOut: number };
  tags: Tag[];
  issuances: { id: string; issuanceKey: string; vintageYear: number | null; issuedOn: string | null; quantity: number; serial: string | null }[];
  events: { id: string; kind: { code: string; label: string }; occurredOn: string | null; quantity: number }[];
  blocks: BlockData[];
  labels: { labelType: { label: string }; label: string; unitQuantity: number | null }[];
  links: { relation: { label: string }; source: { code: string; label: string }; score: number | null; outgoing: boolean; project: { key: string; name: string; registry: { name: string } } }[];
  findings: FindingData[];
  reportedBy: MirrorData[];
  sources: SourceData[];
};

const QUERY = `query Project($key: String!, $locale: Locale) { project(key: $key, locale: $locale) {
  key name nameJa registryProjectId registry { name } proponent country { name } region category { code label } projectType { code label }
  reductionRemoval { code label } status { label } methodologies methodologyRaw creditingPeriodStart creditingPeriodEnd registeredOn registryUrl
  estimatedAnnualQuantity estimatedTotalQuantity
  coveredByNdc { code label } eligibility { label } private totals { issued retired cancelled convertedOut }
  tags { code label subject count source { kind registry text url private organization { name } record { source locator } } }
  issuances { id issuanceKey vintageYear issuedOn quantity serial }
  events(first: 2000) { id kind { code label } occurredOn quantity }
  blocks(first: 200) { ${BLOCK_FIELDS} }
  labels { labelType { label } label unitQuantity }
  links { relation { label } source { code label } score outgoing project { key name registry { name } } }
  findings { ${FINDING_FIELDS} }
  reportedBy { ${MIRROR_FIELDS} }
  sources { ${SOURCE_FIELDS} }
} }`;

export function ProjectPage({ projectKey }: { projectKey: string }) {
  const { t, tonnes, date, locale } = useI18n();
  const state = useQuery<{ project: Project | null }>(QUERY, { key: projectKey });
  return (
    <Loaded state={state}>{({ project: p }) => {
      if (!p) return <section><h1>{t('projectNotFound')}</h1><p>{t('projectNotFoundHelp', { key: projectKey })}</p></section>;
      const years = [...new Set(p.events.map((e) => (e.occurredOn ? Number(e.occurredOn.slice(0, 4)) : null)))].sort((a, b) => (a ?? 0) - (b ?? 0));
      const kinds = ['issued', 'retired', 'cancelled', 'converted-out'].filter((k) => p.events.some((e) => e.kind.code === k));
      const series = kinds.map((k) => ({
        label: p.events.find((e) => e.kind.code === k)!.kind.label,
        data: years.map((y) => p.events.filter((e) => e.kind.code === k && (e.occurredOn ? Number(e.occurredOn.slice(0, 4)) : null) === y).reduce((s, e) => s + e.quantity, 0)),
      }));
      const facts: [string, string | null | undefined][] = [
        [t('registry'), `${p.registry.name} · ${p.registryProjectId}`], [t('proponent'), p.proponent], [t('country'), [p.country?.name, p.region].filter(Boolean).join(' · ')],
        [t('category'), p.category?.label], [t('projectType'), p.projectType?.label], [t('reductionRemoval'), p.reductionRemoval?.label],
        [t('status'), p.status.label], [t('methodology'), p.methodologyRaw ?? p.methodologies.join(', ')],
        [t('creditingPeriod'), p.creditingPeriodStart ? `${date(p.creditingPeriodStart)} – ${date(p.creditingPeriodEnd)}` : null],
        [t('registeredOn'), p.registeredOn ? date(p.registeredOn) : null], [t('coveredByNdc'), p.coveredByNdc?.label],
        // J-Credit certifies (認証) what other registries issue (発行): its expected volume has its own word.
        [t(p.key.startsWith('j-credit:') ? 'expectedAnnualJCredit' : 'expectedAnnual'), p.estimatedAnnualQuantity !== null ? tonnes(p.estimatedAnnualQuantity) : null],
        [t(p.key.startsWith('j-credit:') ? 'expectedTotalJCredit' : 'expectedTotal'), p.estimatedTotalQuantity !== null ? tonnes(p.estimatedTotalQuantity) : null],
        [t('eligibility'), p.eligibility.map((e) => e.label).join(', ')],
      ];
      return (
        <section>
          <p class="crumbs"><a href={href('projects')}>{t('navProjects')}</a> / {p.key}</p>
          <h1>{(locale === 'ja' && p.nameJa) || p.name}{p.private ? <span class="badge">{t('private')}</span> : null}</h1>
          {p.registryUrl && <p><a href={p.registryUrl} rel="noreferrer noopener" target="_blank">{t('openInRegistry')}</a></p>}
          <dl class="facts">{facts.filter(([, v]) => v).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>
          <dl class="totals">
            {(['issued', 'retired', 'cancelled', 'convertedOut'] as const).map((m) => <div key={m}><dt>{t(m)}</dt><dd>{tonnes(p.totals[m])}</dd></div>)}
          </dl>
          <h2>{t('tags')}</h2>
          {p.tags.length === 0 ? <Empty>{t('noTags')}</Empty> : <TagsTable tags={p.tags} />}
          <h2>{t('lifecycle')}</h2>
          <ChartFigure title={t('lifecycleByYear')} labels={years.map((y) => (y === null ? t('unknownYear') : String(y)))} series={series} />
          <h2>{t('issuances')}</h2>
          {p.issuances.length === 0 ? <Empty>{t('none')}</Empty> : (
            <div class="scroll"><table class="list">
              <thead><tr><th scope="col">{t('issuance')}</th><th scope="col">{t('vintage')}</th><th scope="col">{t('date')}</th><th scope="col" class="num">{t('quantity')}</th><th scope="col">{t('serial')}</th></tr></thead>
              <tbody>{p.issuances.map((i) => <tr key={i.id}><td>{i.issuanceKey}</td><td>{i.vintageYear ?? '–'}</td><td>{date(i.issuedOn)}</td><td class="num">{tonnes(i.quantity)}</td><td class="serial">{i.serial ?? '–'}</td></tr>)}</tbody>
            </table></div>
          )}
          <h2>{t('blocks')}</h2>
          {p.blocks.length === 0 ? <Empty>{t('none')}</Empty> : <BlocksTable blocks={p.blocks} />}
          <h2>{t('links')}</h2>
          {p.links.length === 0 ? <Empty>{t('noLinks')}</Empty> : (
            <ul>{p.links.map((l) => (
              <li key={l.project.key}>{l.relation.label}: <a href={href('project', l.project.key)}>{l.project.name}</a> ({l.project.registry.name}) · {l.source.label}{l.score !== null ? ` ${l.score}` : ''}</li>
            ))}</ul>
          )}
          <h2>{t('findings')}</h2>
          {p.findings.length === 0 ? <Empty>{t('noFindings')}</Empty> : p.findings.map((f) => <FindingCard key={f.id} finding={f} canDecide={false} />)}
          <MirrorReports reports={p.reportedBy} />
          {p.labels.length > 0 && <><h2>{t('labels')}</h2><ul>{p.labels.map((l) => <li key={l.label}>{l.labelType.label}: {l.label}{l.unitQuantity ? ` · ${tonnes(l.unitQuantity)}` : ''}</li>)}</ul></>}
          <h2>{t('sources')}</h2>
          <SourcesList sources={p.sources} />
        </section>
      );
    }}</Loaded>
  );
}

/** A project's tags: the code's label, what carries it, and the source that says so (a record, a label, an AEF row). */
function TagsTable({ tags }: { tags: Tag[] }) {
  const { t } = useI18n();
  const appliesTo = (tag: Tag) => (tag.subject === 'PROJECT' ? t('tagOnProject') : t(tag.subject === 'ISSUANCE' ? 'tagOnIssuances' : 'tagOnBlocks', { n: tag.count }));
  const said = (tag: Tag) => {
    const s = tag.source;
    const what = s.record ? t('tagRecordAt', { source: s.record.source, locator: s.record.locator ?? '' }) : s.text;
    return [s.organization?.name ?? s.registry, what].filter(Boolean).join(' · ');
  };
  return (
    <div class="scroll"><table class="list tags">
      <caption>{t('tagsLead')}</caption>
      <thead><tr><th scope="col">{t('tag')}</th><th scope="col">{t('tagAppliesTo')}</th><th scope="col">{t('tagSource')}</th></tr></thead>
      <tbody>{tags.map((tag, i) => (
        <tr key={`${tag.code}:${i}`}>
          <td><span class="tag" title={tag.code}>{tag.label}</span> <code>{tag.code}</code></td>
          <td>{appliesTo(tag)}</td>
          <td>{t(`tagSource_${tag.source.kind}`)}: {tag.source.url ? <a href={tag.source.url} rel="noreferrer noopener" target="_blank">{said(tag)}</a> : said(tag)}
            {tag.source.private ? <span class="badge">{t('private')}</span> : null}</td>
        </tr>
      ))}</tbody>
    </table></div>
  );
}
