// What the synthetic world (bench/world.ts) knows of the registries: their ids, how they write project
// ids and serials, which number space a serial falls in (as connectors/*/serial.ts derive it), and
// the kinds of activity each one lists, with real methodology strings and the countries they are in.

export type Registry = 'verra' | 'gold-standard' | 'american-carbon-registry' | 'climate-action-reserve' | 'art-trees' | 'cdm';

export const REGISTRIES: readonly Registry[] = ['verra', 'gold-standard', 'american-carbon-registry', 'climate-action-reserve', 'art-trees', 'cdm'];

/** Country names as registries write them, with the ISO code their serials carry. */
export const ISO: Readonly<Record<string, string>> = {
  'Argentina': 'AR', 'Bangladesh': 'BD', 'Brazil': 'BR', 'Cambodia': 'KH', 'Chile': 'CL', 'China': 'CN', 'Colombia': 'CO',
  'Congo, The Democratic Republic of the': 'CD', 'Costa Rica': 'CR', 'Ecuador': 'EC', 'Ethiopia': 'ET', 'Ghana': 'GH', 'Guatemala': 'GT',
  'Guyana': 'GY', 'Honduras': 'HN', 'India': 'IN', 'Indonesia': 'ID', 'Kenya': 'KE', 'Madagascar': 'MG', 'Malawi': 'MW', 'Mexico': 'MX',
  'Nepal': 'NP', 'Peru': 'PE', 'Philippines': 'PH', 'Rwanda': 'RW', 'Thailand': 'TH', 'Turkey': 'TR', 'Uganda': 'UG', 'United States': 'US',
  'Viet Nam': 'VN', 'Zambia': 'ZM',
};

/** State codes a CAR serial carries (US states; Mexican states for Forestry - MX). */
export const CAR_STATES: Readonly<Record<string, readonly string[]>> = {
  'United States': ['CA', 'OR', 'WA', 'TX', 'PA', 'OH', 'WV', 'KS', 'NC', 'MI', 'VA', 'AL'],
  'Mexico': ['OAX', 'JAL', 'CHH', 'DUR', 'MIC'],
};

/**
 * One kind of activity, as each registry that lists it writes it: the methodology or protocol
 * string, the phrase its project names end with, the credit type, and the countries it is found in.
 * Name phrases use only words that nearly every project name uses (the engine sets them aside when
 * it compares names), so the invented place name is all that tells two projects apart.
 */
export type Listing = { methodology: string; phrase: string; creditType: string; countries: readonly string[] };
export type Family = {
  id: string;
  /** Issuance sizes, tonnes. */
  size: readonly [number, number];
  listings: Partial<Record<Registry, readonly Listing[]>>;
};

const ASIA_ENERGY = ['India', 'China', 'Turkey', 'Viet Nam', 'Thailand', 'Philippines', 'Indonesia'];
const LATAM = ['Brazil', 'Mexico', 'Chile', 'Argentina', 'Colombia', 'Peru', 'Honduras', 'Guatemala'];
const COOKING = ['Kenya', 'Uganda', 'Malawi', 'Ghana', 'Rwanda', 'Zambia', 'Ethiopia', 'Nepal', 'Bangladesh', 'Cambodia', 'Madagascar'];
const TROPICAL_FOREST = ['Brazil', 'Peru', 'Colombia', 'Indonesia', 'Cambodia', 'Congo, The Democratic Republic of the', 'Madagascar', 'Guatemala', 'Ecuador', 'Kenya', 'Zambia'];

export const FAMILIES: readonly Family[] = [
  {
    id: 'wind', size: [8_000, 400_000], listings: {
      'verra': [{ methodology: 'ACM0002', phrase: 'Wind Power Project', creditType: 'vcu', countries: [...ASIA_ENERGY, ...LATAM.slice(0, 4)] }],
      'gold-standard': [{ methodology: 'ACM0002 Grid-connected electricity generation from renewable sources', phrase: 'Wind Farm', creditType: 'ver', countries: ['India', 'Turkey', 'China', 'Viet Nam', 'Mexico', 'Brazil'] }],
      'cdm': [{ methodology: 'ACM0002', phrase: 'Wind Power Project', creditType: 'cer', countries: ['India', 'China', 'Brazil', 'Mexico', 'Chile', 'Turkey'] }],
    },
  },
  {
    id: 'solar', size: [3_000, 200_000], listings: {
      'verra': [{ methodology: 'AMS-I.D.', phrase: 'Solar Power Project', creditType: 'vcu', countries: ['India', 'Viet Nam', 'Mexico', 'Chile', 'Kenya', 'Thailand'] }],
      'gold-standard': [{ methodology: 'AMS-I.D. Grid connected renewable electricity generation', phrase: 'Solar Power Plant', creditType: 'ver', countries: ['India', 'Viet Nam', 'Mexico', 'Kenya', 'Bangladesh'] }],
      'cdm': [{ methodology: 'AMS-I.D.', phrase: 'Solar Power Project', creditType: 'cer', countries: ['India', 'China', 'Chile', 'Thailand'] }],
    },
  },
  {
    id: 'hydro', size: [5_000, 300_000], listings: {
      'verra': [{ methodology: 'AMS-I.D.', phrase: 'Hydropower Project', creditType: 'vcu', countries: ['India', 'China', 'Viet Nam', 'Honduras', 'Uganda', 'Peru'] }],
      'gold-standard': [{ methodology: 'AMS-I.D. Grid connected renewable electricity generation', phrase: 'Hydro Power Plant', creditType: 'ver', countries: ['India', 'Uganda', 'Nepal', 'Viet Nam'] }],
      'cdm': [{ methodology: 'AMS-I.D.', phrase: 'Hydropower Project', creditType: 'cer', countries: ['India', 'China', 'Viet Nam', 'Honduras', 'Peru', 'Brazil'] }],
    },
  },
  {
    id: 'cookstoves', size: [2_000, 90_000], listings: {
      'verra': [{ methodology: 'VMR0006', phrase: 'Improved Cookstoves Project', creditType: 'vcu', countries: COOKING }],
      'gold-standard': [
        { methodology: 'GS TPDDTEC v3.1', phrase: 'Efficient Cookstoves Programme', creditType: 'ver', countries: COOKING },
        { methodology: 'GS MS Simplified Methodology for Efficient Cookstoves v1.1', phrase: 'Clean Cooking Project', creditType: 'ver', countries: COOKING },
      ],
    },
  },
  {
    id: 'water', size: [2_000, 60_000], listings: {
      'gold-standard': [{ methodology: 'AMS-III.AV. Low greenhouse gas emitting water purification systems', phrase: 'Water Purification Project', creditType: 'ver', countries: ['Kenya', 'Uganda', 'Cambodia', 'Rwanda', 'Ghana'] }],
    },
  },
  {
    id: 'landfill', size: [10_000, 500_000], listings: {
      'verra': [{ methodology: 'ACM0001', phrase: 'Landfill Gas Project', creditType: 'vcu', countries: ['Brazil', 'China', 'Turkey', 'Argentina', 'Mexico', 'United States'] }],
      'gold-standard': [{ methodology: 'ACM0001 Flaring or use of landfill gas', phrase: 'Landfill Gas Recovery Project', creditType: 'ver', countries: ['Turkey', 'Brazil', 'China'] }],
      'american-carbon-registry': [{ methodology: 'Landfill Gas Destruction and Beneficial Use Projects', phrase: 'Landfill Gas Project', creditType: 'ert', countries: ['United States'] }],
      'climate-action-reserve': [{ methodology: 'Landfill Gas Capture/Combustion - Version 6.0', phrase: 'Landfill Gas Capture Project', creditType: 'crt', countries: ['United States'] }],
      'cdm': [{ methodology: 'ACM0001', phrase: 'Landfill Gas Project', creditType: 'cer', countries: ['Brazil', 'China', 'Argentina', 'Mexico', 'Chile'] }],
    },
  },
  {
    id: 'redd', size: [20_000, 2_000_000], listings: {
      'verra': [
        { methodology: 'VM0015', phrase: 'REDD+ Project', creditType: 'vcu', countries: TROPICAL_FOREST },
        { methodology: 'VM0007', phrase: 'REDD+ Project', creditType: 'vcu', countries: TROPICAL_FOREST },
        { methodology: 'VM0048', phrase: 'Forest Conservation Project', creditType: 'vcu', countries: TROPICAL_FOREST },
      ],
      'art-trees': [
        { methodology: 'ART - The REDD+ Environmental Excellence Standard (TREES)', phrase: 'REDD+ Programme', creditType: 'trees-credit', countries: ['Guyana', 'Costa Rica', 'Ecuador', 'Ghana', 'Peru', 'Colombia', 'Brazil', 'Guatemala'] },
      ],
    },
  },
  {
    id: 'arr', size: [1_000, 120_000], listings: {
      'verra': [{ methodology: 'VM0047', phrase: 'Reforestation Project', creditType: 'vcu', countries: ['Brazil', 'Colombia', 'India', 'Kenya', 'Peru', 'Uganda', 'Mexico'] }],
      'gold-standard': [{ methodology: 'AR-ACM0003', phrase: 'Reforestation Project', creditType: 'ver', countries: ['Uganda', 'Colombia', 'Kenya', 'Ghana', 'India'] }],
      'american-carbon-registry': [{ methodology: 'Afforestation and Reforestation of Degraded Lands', phrase: 'Reforestation Project', creditType: 'ert', countries: ['United States'] }],
    },
  },
  {
    id: 'ifm', size: [10_000, 800_000], listings: {
      'verra': [{ methodology: 'VM0010', phrase: 'Improved Forest Management Project', creditType: 'vcu', countries: ['United States', 'Chile'] }],
      'american-carbon-registry': [{ methodology: 'Improved Forest Management (IFM) on Non-Federal U.S. Forestlands', phrase: 'Improved Forest Management Project', creditType: 'ert', countries: ['United States'] }],
      'climate-action-reserve': [
        { methodology: 'Improved Forest Management - ARB Compliance - ARB Compliance Offset Protocol U.S. Forest Projects, June 25, 2015', phrase: 'Forest Carbon Project', creditType: 'roc', countries: ['United States'] },
        { methodology: 'Forestry - MX - Version 3.0', phrase: 'Forest Carbon Project', creditType: 'crt', countries: ['Mexico'] },
      ],
    },
  },
  {
    id: 'mine-methane', size: [10_000, 400_000], listings: {
      'verra': [{ methodology: 'ACM0008', phrase: 'Coal Mine Methane Project', creditType: 'vcu', countries: ['China', 'United States'] }],
      'climate-action-reserve': [{ methodology: 'Mine Methane Capture - ARB Compliance - ARB Compliance Offset Protocol Mine Methane Capture, April 25, 2014', phrase: 'Mine Methane Capture Project', creditType: 'roc', countries: ['United States'] }],
      'cdm': [{ methodology: 'ACM0008', phrase: 'Coal Mine Methane Project', creditType: 'cer', countries: ['China'] }],
    },
  },
  {
    id: 'biogas', size: [2_000, 100_000], listings: {
      'verra': [{ methodology: 'AMS-III.D.', phrase: 'Biogas Project', creditType: 'vcu', countries: ['Mexico', 'Philippines', 'Thailand', 'Brazil', 'United States'] }],
      'climate-action-reserve': [{ methodology: 'Livestock - ARB Compliance - ARB Compliance Offset Protocol Livestock Projects, November 14, 2014', phrase: 'Biogas Project', creditType: 'roc', countries: ['United States'] }],
      'cdm': [{ methodology: 'AMS-III.D.', phrase: 'Methane Recovery Project', creditType: 'cer', countries: ['Mexico', 'Philippines', 'Thailand', 'Brazil'] }],
    },
  },
  {
    id: 'ods', size: [5_000, 200_000], listings: {
      'american-carbon-registry': [{ methodology: 'Destruction of Ozone Depleting Substances (ODS) from International Sources', phrase: 'ODS Destruction Project', creditType: 'ert', countries: ['United States'] }],
      'climate-action-reserve': [{ methodology: 'Ozone Depleting Substances - U.S. - ARB Compliance - Compliance Offset Protocol ARB Ozone Depleting Substances Projects, November 14, 2014', phrase: 'ODS Destruction Project', creditType: 'roc', countries: ['United States'] }],
    },
  },
  {
    id: 'biomass', size: [5_000, 250_000], listings: {
      'verra': [{ methodology: 'ACM0006', phrase: 'Biomass Power Project', creditType: 'vcu', countries: ['India', 'Brazil', 'Thailand'] }],
      'cdm': [{ methodology: 'ACM0006', phrase: 'Biomass Power Project', creditType: 'cer', countries: ['India', 'Brazil', 'Thailand', 'China'] }],
    },
  },
  {
    id: 'grassland', size: [2_000, 80_000], listings: {
      'climate-action-reserve': [{ methodology: 'Avoided Grassland Conversion - Version 2.1', phrase: 'Conservation Project', creditType: 'crt', countries: ['United States'] }],
    },
  },
];

export function familiesOf(registry: Registry): Family[] {
  return FAMILIES.filter((f) => f.listings[registry]);
}

/** Project ids as each registry writes them (and as the ledger stores them). */
export function formatProjectId(registry: Registry, n: number): string {
  switch (registry) {
    case 'verra': return String(n);
    case 'gold-standard': return `GS${n}`;
    case 'american-carbon-registry': return `ACR${n}`;
    case 'climate-action-reserve': return `CAR${n}`;
    case 'art-trees': return `ART${n}`;
    case 'cdm': return String(n);
  }
}

/** The range of project numbers drawn for each registry (unique within it). */
export const PROJECT_NUMBERS: Readonly<Record<Registry, readonly [number, number]>> = {
  'verra': [100, 4999],
  'gold-standard': [1000, 12999],
  'american-carbon-registry': [100, 1999],
  'climate-action-reserve': [100, 2199],
  'art-trees': [100, 299],
  'cdm': [100, 10999],
};

export const registryUrl = (registry: Registry, id: string): string | undefined => {
  switch (registry) {
    case 'verra': return `https://registry.verra.org/app/projectDetail/VCS/${id}`;
    case 'gold-standard': return `https://registry.goldstandard.org/projects?q=${id.toLowerCase()}`;
    case 'climate-action-reserve': return `https://thereserve2.apx.com/mymodule/reg/prjView.asp?id1=${Number(id.slice(3))}`;
    default: return undefined;
  }
};

/** Programme names as a Verra project's `otherGhgProgramName` writes them. */
export const PROGRAM_NAME: Readonly<Record<Registry, string>> = {
  'verra': 'VCS', 'gold-standard': 'Gold Standard', 'american-carbon-registry': 'American Carbon Registry',
  'climate-action-reserve': 'Climate Action Reserve', 'art-trees': 'ART', 'cdm': 'CDM',
};

// ---- serials ----------------------------------------------------------------------------------------

/** Everything a serial of one issuance batch carries besides its two numbers. */
export type BatchContext = {
  registry: Registry; projectId: string; iso: string; vintageYear: number; vintageStart: string; vintageEnd: string;
  batch: number; creditType: string; state: string; projectNumber: number;
};

const ddmmyyyy = (iso: string) => `${iso.slice(8, 10)}${iso.slice(5, 7)}${iso.slice(0, 4)}`;

/** A serial range as the registry writes it. */
export function formatSerial(c: BatchContext, start: number, end: number): string {
  switch (c.registry) {
    case 'verra':
      // batch-start-end-VCS-VCU-<code>-VER-<ISO2>-<sectoral scope>-<project>-<vintage start>-<vintage end>-<flag>
      return `${c.batch}-${start}-${end}-VCS-VCU-${(c.projectNumber % 900) + 100}-VER-${c.iso}-${(c.projectNumber % 14) + 1}-${c.projectId}-${ddmmyyyy(c.vintageStart)}-${ddmmyyyy(c.vintageEnd)}-0`;
    case 'gold-standard':
      return `GS1-1-${c.iso}-${c.projectId}-${(c.projectNumber % 20) + 1}-${c.vintageYear}-${c.batch}-${start}-${end}`;
    case 'american-carbon-registry':
      return `ACR-${c.iso}-${c.projectNumber}-${c.vintageYear}-${c.batch}-${start} to ${end}`;
    case 'climate-action-reserve':
      return `CAR-${c.creditType === 'roc' ? 'ROC' : '1'}-${c.iso}-${c.projectNumber}-${(c.projectNumber % 40) + 1}-${(c.projectNumber % 977) + 10}-${c.state}-${c.vintageYear}-${c.batch}-${start} to ${end}`;
    case 'art-trees':
      return `ART-${c.iso}-${c.projectNumber}-${c.vintageYear}-${c.batch}-${start} to ${end}`;
    case 'cdm':
      // Kyoto DES: party-unit type-serial-original CP-applicable CP-LULUCF-project ref, twice
      return `${c.iso}-5-${start}-2-2-0-${c.projectNumber} - ${c.iso}-5-${end}-2-2-0-${c.projectNumber}`;
  }
}

/** The number space a serial falls in, as connectors/<registry>/serial.ts derives it. */
export function numberSpaceOf(c: BatchContext): string {
  switch (c.registry) {
    case 'verra': return 'verra:VER';
    case 'gold-standard': return `gold-standard:${c.projectId}:${c.vintageYear}:${c.batch}`;
    case 'american-carbon-registry': return `american-carbon-registry:${c.projectId}:${c.vintageYear}:${c.batch}`;
    case 'climate-action-reserve': return `climate-action-reserve:${c.creditType === 'roc' ? 'ROC' : '1'}:${c.projectId}:${c.vintageYear}:${c.batch}`;
    case 'art-trees': return `art-trees:${c.projectId}:${c.vintageYear}:${c.batch}`;
    case 'cdm': return `cdm:${c.iso}:5`;
  }
}

// ---- dates ------------------------------------------------------------------------------------------

const DAY = 86_400_000;
export const toIso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const fromIso = (iso: string) => Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10)));
export const addDays = (iso: string, days: number) => toIso(fromIso(iso) + days * DAY);
/** The latest date the world's records carry. */
export const LAST_DATE = '2025-12-15';
export const notAfterLast = (iso: string) => (iso > LAST_DATE ? LAST_DATE : iso);
