// SPDX-License-Identifier: Apache-2.0
// Fluent request builders for the Graph /print tree (and /subscriptions) on the real Kiota-based
// @microsoft/msgraph-beta-sdk client.
//
// Microsoft ships these builders in a per-area package (@microsoft/msgraph-beta-sdk-print) that is
// not published on the npm registry. The beta SDK exposes a public hook,
// extendGraphBetaServiceClient(), through which such a package registers its navigation and
// request metadata; the runtime (apiClientProxifier in @microsoft/kiota-abstractions) turns that
// metadata into `client.print.printers.byPrinterId(id).jobs...`. This file is that metadata,
// written for spoold's tests. Everything else (URI template expansion, JSON (de)serialization with
// the SDK's generated models, auth, retry/telemetry middleware, error mapping to ODataError) is the
// unmodified client.
//
// Conventions copied from Kiota's generated code (so the wire traffic is what a real app sends):
//  - path parameters are named "<entity>%2Did" and templates start with "{+baseurl}";
//  - collections take $count/$expand/$filter/$orderby/$search/$select/$skip/$top, items
//    $expand/$select; the friendly names (filter, top, ...) are mapped to the "%24" names;
//  - every call maps any error status ("XXX") to ODataError and sends Accept: application/json;
//  - operations that answer 204 use sendNoResponseContent; the others use send with a model factory
//    (a 204 to a `send` call resolves to undefined).
//
// Usage:
//   import "./print-fluent.mjs";           // before createGraphBetaServiceClient()
//   await client.print.shares.byPrinterShareId(s).jobs.byPrintJobId(j).start.post();
import { extendGraphBetaServiceClient } from "@microsoft/msgraph-beta-sdk";
import * as models from "@microsoft/msgraph-beta-sdk/models/index.js";
import { createODataErrorFromDiscriminatorValue } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js";

const JSON_TYPE = "application/json";
const errorMappings = Object.freeze({ XXX: createODataErrorFromDiscriminatorValue });

const LIST_QUERY = ["count", "expand", "filter", "orderby", "search", "select", "skip", "top"];
const ITEM_QUERY = ["expand", "select"];
const REF_LIST_QUERY = ["count", "filter", "orderby", "search", "skip", "top"];

// "{?%24a,%24b}" and { a: "%24a", b: "%24b" } for a list of OData system query options.
function queryOf(names) {
  if (!names || names.length === 0) return { template: "", mapper: undefined };
  const mapper = Object.fromEntries(names.map((n) => [n, `%24${n}`]));
  return { template: `{?${names.map((n) => `%24${n}`).join(",")}}`, mapper };
}

// --- request metadata -------------------------------------------------------------------------

// GET (or a body-less POST) whose answer is parsed with `factory`.
function fetchOne(path, factory, query = ITEM_QUERY) {
  const q = queryOf(query);
  return {
    uriTemplate: path + q.template,
    responseBodyContentType: JSON_TYPE,
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: factory,
    queryParametersMapper: q.mapper,
  };
}

// A request with a JSON body written by `serializer`; parsed with `factory`, or none (204).
function withBody(path, serializer, factory, query = []) {
  const q = queryOf(query);
  return {
    uriTemplate: path + q.template,
    responseBodyContentType: JSON_TYPE,
    errorMappings,
    adapterMethodName: factory ? "send" : "sendNoResponseContent",
    responseBodyFactory: factory,
    queryParametersMapper: q.mapper,
    requestBodyContentType: JSON_TYPE,
    requestBodySerializer: serializer,
    requestInformationContentSetMethod: "setContentFromParsable",
  };
}

// A request without a body; parsed with `factory`, or none (204).
function noBody(path, factory) {
  return {
    uriTemplate: path,
    responseBodyContentType: JSON_TYPE,
    errorMappings,
    adapterMethodName: factory ? "send" : "sendNoResponseContent",
    responseBodyFactory: factory,
  };
}

// GET of a media resource ($value): the bytes as an ArrayBuffer.
function fetchBytes(path) {
  return {
    uriTemplate: path,
    responseBodyContentType: "application/octet-stream, application/json",
    errorMappings,
    adapterMethodName: "sendPrimitive",
    responseBodyFactory: "ArrayBuffer",
  };
}

// --- navigation shapes ------------------------------------------------------------------------

// A navigation property (no key): client.x.get() ...
const node = (requestsMetadata, navigationMetadata) => ({ requestsMetadata, navigationMetadata });

// An indexer (client.xs.byXId(id)).
const indexer = (param, requestsMetadata, navigationMetadata) =>
  ({ requestsMetadata, navigationMetadata, pathParametersMappings: [param] });

// An entity collection with list/create and an indexer with get/patch/delete.
//   m: { entity, serialize, collection }  (model factory / serializer / collection-response factory)
//   opts.readOnly: no create/patch/delete; opts.itemNav(itemPath): navigation under an item.
function entitySet(path, param, indexerName, m, opts = {}) {
  const item = `${path}/{${param}}`;
  const listOps = { get: fetchOne(path, m.collection, LIST_QUERY) };
  const itemOps = { get: fetchOne(item, m.entity) };
  if (!opts.readOnly) {
    listOps.post = withBody(path, m.serialize, m.entity);
    itemOps.patch = withBody(item, m.serialize, m.entity);
    itemOps.delete = noBody(item, undefined);
  }
  return node(listOps, {
    ...(opts.listNav ? opts.listNav(path) : {}),
    [indexerName]: indexer(param, itemOps, opts.itemNav ? opts.itemNav(item) : undefined),
  });
}

// A directory-object reference collection (allowedUsers / allowedGroups):
//   list, $ref list, $ref add, $count, and by<X>Id(id).ref.delete().
function referenceSet(path, param, indexerName, collectionFactory) {
  return node({ get: fetchOne(path, collectionFactory, LIST_QUERY) }, {
    ref: node({
      get: fetchOne(`${path}/$ref`, models.createStringCollectionResponseFromDiscriminatorValue, REF_LIST_QUERY),
      post: withBody(`${path}/$ref`, models.serializeReferenceCreate, undefined),
    }),
    [indexerName]: indexer(param, undefined, {
      ref: node({ delete: noBody(`${path}/{${param}}/$ref`, undefined) }),
    }),
  });
}

// --- action request bodies (the generated package keeps these next to each action) ------------
// Properties are written in alphabetical order, as Kiota's generated serializers do.

function serializeAbortBody(w, b = {}) {
  w.writeStringValue("reason", b.reason);
  w.writeAdditionalData(b.additionalData);
}

function serializeRedirectBody(w, b = {}) {
  w.writeObjectValue("configuration", b.configuration, models.serializePrintJobConfiguration);
  w.writeStringValue("destinationPrinterId", b.destinationPrinterId);
  w.writeAdditionalData(b.additionalData);
}

function serializeCreateUploadSessionBody(w, b = {}) {
  w.writeObjectValue("properties", b.properties, models.serializePrintDocumentUploadProperties);
  w.writeAdditionalData(b.additionalData);
}

function serializePrinterCreateBody(w, b = {}) {
  w.writeObjectValue("certificateSigningRequest", b.certificateSigningRequest, models.serializePrintCertificateSigningRequest);
  w.writeStringValue("connectorId", b.connectorId);
  w.writeStringValue("displayName", b.displayName);
  w.writeBooleanValue("hasPhysicalDevice", b.hasPhysicalDevice);
  w.writeStringValue("manufacturer", b.manufacturer);
  w.writeStringValue("model", b.model);
  w.writeStringValue("physicalDeviceId", b.physicalDeviceId);
  w.writeAdditionalData(b.additionalData);
}

// --- the /print tree --------------------------------------------------------------------------

const M = {
  printer: { entity: models.createPrinterFromDiscriminatorValue, serialize: models.serializePrinter, collection: models.createPrinterCollectionResponseFromDiscriminatorValue },
  share: { entity: models.createPrinterShareFromDiscriminatorValue, serialize: models.serializePrinterShare, collection: models.createPrinterShareCollectionResponseFromDiscriminatorValue },
  job: { entity: models.createPrintJobFromDiscriminatorValue, serialize: models.serializePrintJob, collection: models.createPrintJobCollectionResponseFromDiscriminatorValue },
  document: { entity: models.createPrintDocumentFromDiscriminatorValue, serialize: models.serializePrintDocument, collection: models.createPrintDocumentCollectionResponseFromDiscriminatorValue },
  task: { entity: models.createPrintTaskFromDiscriminatorValue, serialize: models.serializePrintTask, collection: models.createPrintTaskCollectionResponseFromDiscriminatorValue },
  taskDefinition: { entity: models.createPrintTaskDefinitionFromDiscriminatorValue, serialize: models.serializePrintTaskDefinition, collection: models.createPrintTaskDefinitionCollectionResponseFromDiscriminatorValue },
  taskTrigger: { entity: models.createPrintTaskTriggerFromDiscriminatorValue, serialize: models.serializePrintTaskTrigger, collection: models.createPrintTaskTriggerCollectionResponseFromDiscriminatorValue },
  operation: { entity: models.createPrintOperationFromDiscriminatorValue, serialize: models.serializePrintOperation, collection: models.createPrintOperationCollectionResponseFromDiscriminatorValue },
  connector: { entity: models.createPrintConnectorFromDiscriminatorValue, serialize: models.serializePrintConnector, collection: models.createPrintConnectorCollectionResponseFromDiscriminatorValue },
  service: { entity: models.createPrintServiceFromDiscriminatorValue, serialize: models.serializePrintService, collection: models.createPrintServiceCollectionResponseFromDiscriminatorValue },
  endpoint: { entity: models.createPrintServiceEndpointFromDiscriminatorValue, serialize: models.serializePrintServiceEndpoint, collection: models.createPrintServiceEndpointCollectionResponseFromDiscriminatorValue },
  // The beta SDK of package.json (1.0.0-preview.81) has no pullPrintPrinter model yet: pull-print
  // printers are read with its printerBase model (includeAllPrinters and registeredDateTime land
  // in additionalData) and written with its printerBase serializer (additionalData as is).
  pullPrintPrinter: { entity: models.createPrinterBaseFromDiscriminatorValue, serialize: models.serializePrinterBase, collection: createPrinterBaseCollectionResponseFromDiscriminatorValue },
  subscription: { entity: models.createSubscriptionFromDiscriminatorValue, serialize: models.serializeSubscription, collection: models.createSubscriptionCollectionResponseFromDiscriminatorValue },
};

// A collection of printerBase, written as Kiota writes the generated collection responses.
function createPrinterBaseCollectionResponseFromDiscriminatorValue() {
  return (r = {}) => ({
    ...models.deserializeIntoBaseCollectionPaginationCountResponse(r),
    value: (n) => { r.value = n.getCollectionOfObjectValues(models.createPrinterBaseFromDiscriminatorValue); },
  });
}

// .../tasks (owned by a task definition; a read view under a job) -> by id -> definition, trigger
function tasks(parent, opts = {}) {
  return entitySet(`${parent}/tasks`, "printTask%2Did", "byPrintTaskId", M.task, {
    readOnly: opts.readOnly,
    itemNav: (task) => ({
      definition: node({ get: fetchOne(`${task}/definition`, M.taskDefinition.entity) }),
      trigger: node({ get: fetchOne(`${task}/trigger`, M.taskTrigger.entity) }),
    }),
  });
}

// .../jobs/{id}/documents -> by id -> createUploadSession, content ($value)
function documents(job) {
  return entitySet(`${job}/documents`, "printDocument%2Did", "byPrintDocumentId", M.document, {
    itemNav: (doc) => ({
      createUploadSession: node({
        post: withBody(`${doc}/createUploadSession`, serializeCreateUploadSessionBody, models.createUploadSessionFromDiscriminatorValue),
      }),
      content: node({ get: fetchBytes(`${doc}/$value`) }),
    }),
  });
}

// .../jobs (under a printer or a share) -> by id -> actions, documents, tasks
function jobs(parent) {
  return entitySet(`${parent}/jobs`, "printJob%2Did", "byPrintJobId", M.job, {
    itemNav: (job) => ({
      abort: node({ post: withBody(`${job}/abort`, serializeAbortBody, undefined) }),
      cancel: node({ post: noBody(`${job}/cancel`, undefined) }),
      start: node({ post: noBody(`${job}/start`, models.createPrintJobStatusFromDiscriminatorValue) }),
      redirect: node({ post: withBody(`${job}/redirect`, serializeRedirectBody, M.job.entity) }),
      documents: documents(job),
      tasks: tasks(job, { readOnly: true }),
    }),
  });
}

const PRINT = "{+baseurl}/print";

const print = node(
  {
    get: fetchOne(PRINT, models.createPrintFromDiscriminatorValue),
    patch: withBody(PRINT, models.serializePrint, models.createPrintFromDiscriminatorValue),
  },
  {
    printers: entitySet(`${PRINT}/printers`, "printer%2Did", "byPrinterId", M.printer, {
      listNav: (printers) => ({
        // POST /print/printers/create: 202 + Operation-Location, no body.
        create: node({ post: withBody(`${printers}/create`, serializePrinterCreateBody, undefined) }),
      }),
      itemNav: (printer) => ({
        jobs: jobs(printer),
        taskTriggers: entitySet(`${printer}/taskTriggers`, "printTaskTrigger%2Did", "byPrintTaskTriggerId", M.taskTrigger, {
          itemNav: (trigger) => ({
            definition: node({ get: fetchOne(`${trigger}/definition`, M.taskDefinition.entity) }),
          }),
        }),
        shares: entitySet(`${printer}/shares`, "printerShare%2Did", "byPrinterShareId", M.share, { readOnly: true }),
        connectors: entitySet(`${printer}/connectors`, "printConnector%2Did", "byPrintConnectorId", M.connector, { readOnly: true }),
        restoreFactoryDefaults: node({ post: noBody(`${printer}/restoreFactoryDefaults`, undefined) }),
        pullPrintPrinters: node({ get: fetchOne(`${printer}/pullPrintPrinters`, M.pullPrintPrinter.collection, []) }),
        getCapabilities: node({ get: fetchOne(`${printer}/getCapabilities`, models.createPrinterCapabilitiesFromDiscriminatorValue, []) }),
      }),
    }),
    shares: entitySet(`${PRINT}/shares`, "printerShare%2Did", "byPrinterShareId", M.share, {
      itemNav: (share) => ({
        jobs: jobs(share),
        printer: node({ get: fetchOne(`${share}/printer`, M.printer.entity) }),
        allowedUsers: referenceSet(`${share}/allowedUsers`, "user%2Did", "byUserId", models.createUserCollectionResponseFromDiscriminatorValue),
        allowedGroups: referenceSet(`${share}/allowedGroups`, "group%2Did", "byGroupId", models.createGroupCollectionResponseFromDiscriminatorValue),
      }),
    }),
    taskDefinitions: entitySet(`${PRINT}/taskDefinitions`, "printTaskDefinition%2Did", "byPrintTaskDefinitionId", M.taskDefinition, {
      itemNav: (def) => ({ tasks: tasks(def) }),
    }),
    operations: entitySet(`${PRINT}/operations`, "printOperation%2Did", "byPrintOperationId", M.operation, {
      readOnly: true,
      itemNav: (op) => ({ pullPrintPrinter: node({ get: fetchOne(`${op}/pullPrintPrinter`, M.pullPrintPrinter.entity) }) }),
    }),
    // POST answers 202 + Operation-Location without a body (as printers/create)
    pullPrintPrinters: entitySet(`${PRINT}/pullPrintPrinters`, "pullPrintPrinter%2Did", "byPullPrintPrinterId", M.pullPrintPrinter, {
      itemNav: (pp) => ({
        printers: referenceSet(`${pp}/printers`, "printer%2Did", "byPrinterId", M.printer.collection),
        restoreFactoryDefaults: node({ post: noBody(`${pp}/restoreFactoryDefaults`, undefined) }),
      }),
    }),
    connectors: entitySet(`${PRINT}/connectors`, "printConnector%2Did", "byPrintConnectorId", M.connector),
    services: entitySet(`${PRINT}/services`, "printService%2Did", "byPrintServiceId", M.service, {
      readOnly: true,
      itemNav: (svc) => ({
        endpoints: entitySet(`${svc}/endpoints`, "printServiceEndpoint%2Did", "byPrintServiceEndpointId", M.endpoint, { readOnly: true }),
      }),
    }),
  },
);

// /subscriptions (change notifications: print task created, job fetchable)
const subscriptions = entitySet("{+baseurl}/subscriptions", "subscription%2Did", "bySubscriptionId", M.subscription);

extendGraphBetaServiceClient({ print, subscriptions });

export { print as printNavigationMetadata, subscriptions as subscriptionsNavigationMetadata, models };
