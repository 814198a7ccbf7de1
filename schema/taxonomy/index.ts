// The common taxonomy: vocabularies with English and Japanese labels, countries, and the classifier
// from methodology strings to category, project type and reduction/removal.
export * from './vocabularies.ts';
export * from './countries.ts';
export * from './methodology.ts';
