import { resolveCountry, vocabularies } from '../../schema/taxonomy/index.ts';
import { fold, termOfCadt, type Picklist } from './core.ts';
import picklistData from './v2-picklists.json' with { type: 'json' };

// CAD Trust v2.0.2 picklists (v2-picklists.json, copied from the schema's `picklists`) and how Tally's
// terms map onto them, both ways. v2 changed several v1 lists: project sectors and types are IPCC-style
// categories, not ISIC sections; unit statuses add Issued, Inactive and Rejected and drop Exported; label
// types are Article 6 kinds ("Article 6 - Authorisation"); country names are the governance list's.

export const V2_PICKLISTS = picklistData as unknown as Record<
  'project_sector' | 'project_type' | 'project_status' | 'unit_metric' | 'unit_type' | 'unit_status' | 'location_country' | 'stakeholder_type'
  | 'label_type' | 'co_benefit_id' | 'methodology_type', string[]>;

/** A picklist value, matched without regard to case, spaces or punctuation, as the list spells it. */
export function v2Picklist(list: keyof typeof V2_PICKLISTS, value: string): string | undefined {
  return V2_PICKLISTS[list].find((v) => fold(v) === fold(value));
}

// ---- project sector and type (export only: Tally classifies projects by methodology) ----

/** Tally project type → v2 projectSector and projectType (the closest values; a type with none stays empty). */
const BY_PROJECT_TYPE: Record<string, [string, string[]]> = {
  'afforestation/reforestation': ['Afforestation and reforestation', ['Afforestation', 'Reforestation']],
  'redd+': ['Others', ['Agriculture, forestry and other land use (AFOLU)']],
  'avoided forest conversion': ['Others', ['Agriculture, forestry and other land use (AFOLU)']],
  'improved forest management': ['Others', ['Agriculture, forestry and other land use (AFOLU)']],
  'wetland restoration': ['Others', ['Agriculture, forestry and other land use (AFOLU)']],
  'avoided grassland conversion': ['Others', ['Agriculture, forestry and other land use (AFOLU)']],
  'sustainable grassland management': ['Others', ['Agriculture, forestry and other land use (AFOLU)']],
  'sustainable agriculture': ['Agriculture', ['Agriculture']],
  'nitrogen management': ['Agriculture', ['Agriculture']],
  'rice emission reductions': ['Agriculture', ['Agriculture']],
  'improved irrigation management': ['Agriculture', ['Agriculture']],
  'feed additives': ['Livestock and manure management', ['Methane avoidance']],
  'manure methane digester': ['Livestock and manure management', ['Biogas']],
  biodigesters: ['Energy industries (renewable-/ non renewable sources)', ['Biogas']],
  'landfill methane': ['Waste handling and disposal', ['Landfill gas']],
  'methane recovery in wastewater': ['Waste handling and disposal', ['Methane avoidance']],
  composting: ['Waste handling and disposal', ['Waste']],
  'bundled compost production and soil application': ['Waste handling and disposal', ['Waste']],
  'solid waste separation': ['Waste handling and disposal', ['Waste']],
  'waste diversion': ['Waste handling and disposal', ['Waste']],
  'waste reduction': ['Waste handling and disposal', ['Waste']],
  'waste recycling': ['Waste handling and disposal', ['Waste']],
  'waste incineration': ['Waste handling and disposal', ['Waste']],
  'oil recycling': ['Waste handling and disposal', ['Waste']],
  'mine methane capture': ['Fugitive emissions from fuel (solid, oil and gas)', ['Coal bed/mine methane']],
  'leak detection & repair in gas systems': ['Fugitive emissions from fuel (solid, oil and gas)', ['Fugitive']],
  'plugging oil & gas wells': ['Fugitive emissions from fuel (solid, oil and gas)', ['Fugitive']],
  'pneumatic retrofit': ['Fugitive emissions from fuel (solid, oil and gas)', ['Fugitive']],
  'waste gas recovery': ['Fugitive emissions from fuel (solid, oil and gas)', ['Fugitive']],
  'hfc refrigerant reclamation': ['Fugitive emissions from the production and consumption of halocarbons and sulfur hexafluoride', ['PFCs and SF6']],
  'hfc replacement in foam production': ['Fugitive emissions from the production and consumption of halocarbons and sulfur hexafluoride', ['PFCs and SF6']],
  'hfc23 destruction': ['Fugitive emissions from the production and consumption of halocarbons and sulfur hexafluoride', ['PFCs and SF6']],
  'advanced refrigerants': ['Fugitive emissions from the production and consumption of halocarbons and sulfur hexafluoride', ['PFCs and SF6']],
  'refrigerant leak detection': ['Fugitive emissions from the production and consumption of halocarbons and sulfur hexafluoride', ['PFCs and SF6']],
  'ozone depleting substances recovery & destruction': ['Fugitive emissions from the production and consumption of halocarbons and sulfur hexafluoride', ['PFCs and SF6']],
  'sf6 replacement': ['Fugitive emissions from the production and consumption of halocarbons and sulfur hexafluoride', ['PFCs and SF6']],
  'n2o destruction in adipic acid production': ['Chemical industries', ['N2O']],
  'n2o destruction in nitric acid production': ['Chemical industries', ['N2O']],
  'propylene oxide production': ['Chemical industries', []],
  'aluminum smelters emission reductions': ['Metal production', []],
  'lower carbon cement & concrete': ['Manufacturing industries', ['Cement']],
  'brick manufacturing emission reductions': ['Manufacturing industries', ['Energy Efficiency Industry']],
  'carbon capture in concrete': ['Carbon capture and storage', ['CO2 usage']],
  'carbon-absorbing concrete': ['Carbon capture and storage', ['CO2 usage']],
  'carbon capture in plastic': ['Carbon capture and storage', ['CO2 usage']],
  'carbon capture & enhanced oil recovery': ['Carbon capture and storage', ['CO2 usage']],
  'direct air capture': ['Carbon capture and storage', []],
  biochar: ['Carbon capture and storage', []],
  'biomass burial': ['Carbon capture and storage', []],
  'biomass injection': ['Carbon capture and storage', []],
  'enhanced rock weathering': ['Carbon capture and storage', []],
  cookstoves: ['Energy demand', ['Energy Efficiency households']],
  lighting: ['Energy demand', ['Energy Efficiency households']],
  weatherization: ['Energy demand', ['Energy Efficiency households']],
  'clean water': ['Energy demand', ['Energy Efficiency households']],
  'community boreholes': ['Energy demand', ['Energy Efficiency households']],
  'energy efficiency': ['Energy demand', []],
  'bundled energy efficiency': ['Energy demand', []],
  'university campus emission reductions': ['Energy demand', ['Energy Efficiency service']],
  'waste heat recovery': ['Energy industries (renewable-/ non renewable sources)', ['Energy Efficiency own generation']],
  'fleet efficiency': ['Transport', ['Transport']],
  shipping: ['Transport', ['Transport']],
  'mass transit': ['Transport', ['Transport']],
  bicycles: ['Transport', ['Transport']],
  'electric vehicles & charging': ['Transport', ['Transport']],
  'truck stop electrification': ['Transport', ['Transport']],
  'fuel transport': ['Transport', ['Transport']],
  'road construction emission reductions': ['Construction', []],
  hydropower: ['Energy industries (renewable-/ non renewable sources)', ['Hydro']],
  wind: ['Energy industries (renewable-/ non renewable sources)', ['Wind']],
  geothermal: ['Energy industries (renewable-/ non renewable sources)', ['Geothermal']],
  'solar - centralized': ['Energy industries (renewable-/ non renewable sources)', ['Solar']],
  'solar - distributed': ['Energy industries (renewable-/ non renewable sources)', ['Solar']],
  'solar lighting': ['Energy industries (renewable-/ non renewable sources)', ['Solar']],
  'solar water heaters': ['Energy industries (renewable-/ non renewable sources)', ['Solar']],
  're bundled': ['Energy industries (renewable-/ non renewable sources)', []],
  biomass: ['Energy industries (renewable-/ non renewable sources)', ['Biomass Energy']],
  'natural gas electricity generation': ['Energy industries (renewable-/ non renewable sources)', []],
  'fuel switching': ['Energy industries (renewable-/ non renewable sources)', []],
  'grid expansion & mini-grids': ['Energy distribution', ['Energy distribution']],
};

/** Tally category → v2 projectSector, for a project whose type Tally does not know. */
const BY_CATEGORY: Record<string, [string, string[]]> = {
  forest: ['Others', ['Agriculture, forestry and other land use (AFOLU)']],
  'land-use': ['Others', ['Agriculture, forestry and other land use (AFOLU)']],
  agriculture: ['Agriculture', ['Agriculture']],
  'renewable-energy': ['Energy industries (renewable-/ non renewable sources)', []],
  'energy-efficiency': ['Energy demand', []],
  'fuel-switching': ['Energy industries (renewable-/ non renewable sources)', []],
  'carbon-capture': ['Carbon capture and storage', []],
};

/** The v2 projectSector and projectType lists for a project; empty when Tally does not know its type or category. */
export function v2SectorAndType(projectType: string | null, category: string | null): { projectSector: string[]; projectType: string[] } {
  const hit = (projectType ? BY_PROJECT_TYPE[projectType] : undefined) ?? (category ? BY_CATEGORY[category] : undefined);
  return hit ? { projectSector: [hit[0]], projectType: [...hit[1]] } : { projectSector: [], projectType: [] };
}

// ---- project status ----

const STATUS_TO_V2: Record<string, string> = {
  listed: 'Listed', validated: 'Validated', registered: 'Registered', approved: 'Registered', authorized: 'Registered', completed: 'Completed',
  transitioned: 'Inactive', withdrawn: 'Withdrawn', deregistered: 'Inactive',
};
const STATUS_FROM_V2: Record<string, string | null> = {
  Listed: 'listed', Validated: 'validated', Registered: 'registered', Verified: 'registered', Certified: 'registered', Completed: 'completed',
  Withdrawn: 'withdrawn', Inactive: null, Rejected: null,
};

/** Tally project status → v2 projectStatus; undefined for `unknown`. Transitioned and de-registered projects are Inactive in v2. */
export const v2ProjectStatus = (status: string): string | undefined => STATUS_TO_V2[status];

/**
 * A v2 projectStatus (or a v1 one: Transitioned, De-registered, Approved…) → Tally's status. `null`: a
 * v2 status Tally has no term for (Inactive, Rejected), kept as written. Undefined: no status either knows.
 */
export function projectStatusOfV2(value: string): string | null | undefined {
  const v2 = v2Picklist('project_status', value);
  if (v2) return STATUS_FROM_V2[v2];
  return termOfCadt('projectStatus', value);
}

// ---- units ----

const UNIT_STATUS_TO_V2: Record<string, string> = {
  held: 'Held', retired: 'Retired', cancelled: 'Cancelled', expired: 'Expired', buffer: 'Buffer',
  // v2 has no Exported or Pending Export: units exported are cancelled where they were; pending ones are still held.
  exported: 'Cancelled', 'pending-export': 'Held',
};

/** Tally unit status → v2 unitStatus. */
export const v2UnitStatus = (status: string): string => UNIT_STATUS_TO_V2[status]!;

/**
 * A v2 unitStatus (or a v1 one) → Tally's status. "Issued" units sit in the registry's pending or holding
 * account: held. Undefined: a status Tally records no block in (Inactive, Rejected) or none at all.
 */
export function unitStatusOfV2(value: string): string | undefined {
  if (fold(value) === 'issued') return 'held';
  return termOfCadt('unitStatus', value);
}


/** Tally unit type → v2 unitType ("Not Determined" when unknown). */
export function v2UnitType(unitType: string | null): string {
  return (unitType ? vocabularies.unitType!.terms.find((t) => t.code === unitType)?.cadt : undefined) ?? 'Not Determined';
}

/** A v2 unitType → Tally's; null for "Not Determined" and the avoidance types, which Tally's vocabulary has no term for. */
export function unitTypeOfV2(value: string): string | null | undefined {
  const v2 = v2Picklist('unit_type', value);
  if (v2 === 'Not Determined' || v2?.startsWith('Avoidance')) return null;
  return termOfCadt('unitType', value);
}

// ---- labels, countries, co-benefits ----

const LABEL_TO_V2: Record<string, string> = {
  'letter-of-authorization': 'Article 6 - Authorisation', endorsement: 'Article 6 - Endorsement', 'letter-of-approval': 'Article 6 - Letter of Approvals',
  'letter-of-qualification': 'Article 6 - Letter of Qualification', certification: 'Certification',
};

/** Tally label type → v2 labelType. */
export const v2LabelType = (labelType: string): string => LABEL_TO_V2[labelType]!;

/** A v2 labelType (or a v1 one) → Tally's; undefined for one Tally has no term for ("SDG 10 - Reduced inequalities"). */
export function labelTypeOfV2(value: string): string | undefined {
  const v2 = v2Picklist('label_type', value);
  if (v2) return Object.entries(LABEL_TO_V2).find(([, name]) => name === v2)?.[0];
  return termOfCadt('labelType', value);
}

const COUNTRY_NAME = new Map<string, string>();
for (const name of V2_PICKLISTS.location_country) {
  const country = resolveCountry(name);
  if (country && !COUNTRY_NAME.has(country.code)) COUNTRY_NAME.set(country.code, name);
}

/** The v2 locationCountry name of an ISO alpha-2 code, where the picklist has the country. */
export const v2Country = (code: string): string | undefined => COUNTRY_NAME.get(code);

/** Tally co-benefit (an SDG) → v2 cobenefit, by the goal's number. */
export function v2CoBenefit(code: string): string | undefined {
  const n = code.match(/^sdg-(\d+)$/)?.[1];
  return n ? V2_PICKLISTS.co_benefit_id.find((v) => v.startsWith(`SDG ${n} -`)) : undefined;
}

/** A v2 (or v1) cobenefit → Tally's SDG code, by the goal's number. */
export function coBenefitOfV2(value: string): string | undefined {
  const n = value.match(/^\s*SDG\s*(\d+)\b/i)?.[1];
  const code = n ? `sdg-${Number(n)}` : undefined;
  return code && vocabularies.coBenefit!.terms.some((t) => t.code === code) ? code : undefined;
}

// ---- the picklists an upload is read with ----

const listed = (list: keyof typeof V2_PICKLISTS) => (value: string) => V2_PICKLISTS[list].find((v) => v.toLowerCase() === value.toLowerCase());

/** Each v2 picklist a record is checked against: its values as Tally's terms, and the values it takes, for messages. */
export const V2_TERMS: Record<'projectStatus' | 'unitStatus' | 'unitType' | 'labelType' | 'stakeholderType', Picklist> = {
  projectStatus: { read: projectStatusOfV2, accepted: V2_PICKLISTS.project_status.join(', ') },
  unitStatus: { read: unitStatusOfV2, accepted: 'Held, Issued, Retired, Cancelled, Expired, Buffer (and v1 Exported, Pending Export)' },
  unitType: { read: unitTypeOfV2, accepted: V2_PICKLISTS.unit_type.join(', ') },
  // A label type of the list that Tally has no term for ("SDG 10 - Reduced inequalities") reads as null: kept as received only.
  labelType: { read: (value) => labelTypeOfV2(value) ?? (listed('label_type')(value) ? null : undefined), accepted: V2_PICKLISTS.label_type.join(', ') },
  // Stakeholder types stay as the list spells them (Developer, Owner…): Tally keeps no term for them.
  stakeholderType: { read: listed('stakeholder_type'), accepted: V2_PICKLISTS.stakeholder_type.join(', ') },
};
