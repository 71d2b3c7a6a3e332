/* SPDX-License-Identifier: Apache-2.0 */
/* The print enumerations as tables (reference §2.15). */
#include "core/enums.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ENUM(var, nm, arr, vals, evo) \
  const enum_def_t var = {nm, arr, vals, COUNT(arr), evo, false}

static const char *const job_state[] = {"unknown", "pending", "processing", "paused", "stopped",
                                        "completed", "canceled", "aborted", "unknownFutureValue"};
ENUM(ENUM_PRINT_JOB_PROCESSING_STATE, "printJobProcessingState", job_state, NULL, COUNT(job_state));

static const char *const job_detail[] = {"uploadPending", "transforming", "completedSuccessfully",
                                         "completedWithWarnings", "completedWithErrors",
                                         "releaseWait", "interpreting", "unknownFutureValue"};
ENUM(ENUM_PRINT_JOB_STATE_DETAIL, "printJobStateDetail", job_detail, NULL, COUNT(job_detail));

static const char *const printer_state[] = {"unknown", "idle", "processing", "stopped",
                                            "unknownFutureValue"};
ENUM(ENUM_PRINTER_PROCESSING_STATE, "printerProcessingState", printer_state, NULL,
     COUNT(printer_state));

static const char *const task_state[] = {"pending", "processing", "completed", "aborted",
                                         "unknownFutureValue"};
ENUM(ENUM_PRINT_TASK_PROCESSING_STATE, "printTaskProcessingState", task_state, NULL,
     COUNT(task_state));

static const char *const print_event[] = {"jobStarted", "unknownFutureValue"};
ENUM(ENUM_PRINT_EVENT, "printEvent", print_event, NULL, COUNT(print_event));

static const char *const op_state[] = {"notStarted", "running", "succeeded", "failed",
                                       "unknownFutureValue"};
ENUM(ENUM_PRINT_OPERATION_PROCESSING_STATE, "printOperationProcessingState", op_state, NULL,
     COUNT(op_state));

static const char *const color_mode[] = {"blackAndWhite", "grayscale", "color", "auto",
                                         "unknownFutureValue"};
ENUM(ENUM_PRINT_COLOR_MODE, "printColorMode", color_mode, NULL, COUNT(color_mode));

static const char *const duplex_mode[] = {"flipOnLongEdge", "flipOnShortEdge", "oneSided",
                                          "unknownFutureValue"};
ENUM(ENUM_PRINT_DUPLEX_MODE, "printDuplexMode", duplex_mode, NULL, COUNT(duplex_mode));

static const char *const orientation[] = {"portrait", "landscape", "reverseLandscape",
                                          "reversePortrait", "unknownFutureValue"};
static const int orientation_values[] = {3, 4, 5, 6, 7};
ENUM(ENUM_PRINT_ORIENTATION, "printOrientation", orientation, orientation_values,
     COUNT(orientation));

static const char *const quality[] = {"low", "medium", "high", "unknownFutureValue"};
ENUM(ENUM_PRINT_QUALITY, "printQuality", quality, NULL, COUNT(quality));

static const char *const scaling[] = {"auto", "shrinkToFit", "fill", "fit", "none",
                                      "unknownFutureValue"};
ENUM(ENUM_PRINT_SCALING, "printScaling", scaling, NULL, COUNT(scaling));

static const char *const feed[] = {"longEdgeFirst", "shortEdgeFirst", "unknownFutureValue"};
ENUM(ENUM_PRINTER_FEED_ORIENTATION, "printerFeedOrientation", feed, NULL, COUNT(feed));

static const char *const layout[] = {
    "clockwiseFromTopLeft",        "counterclockwiseFromTopLeft", "counterclockwiseFromTopRight",
    "clockwiseFromTopRight",       "counterclockwiseFromBottomLeft", "clockwiseFromBottomLeft",
    "counterclockwiseFromBottomRight", "clockwiseFromBottomRight", "unknownFutureValue"};
ENUM(ENUM_PRINT_MULTIPAGE_LAYOUT, "printMultipageLayout", layout, NULL, COUNT(layout));

static const char *const finishing[] = {
    "none", "staple", "punch", "cover", "bind", "saddleStitch", "stitchEdge", "stapleTopLeft",
    "stapleBottomLeft", "stapleTopRight", "stapleBottomRight", "stitchLeftEdge", "stitchTopEdge",
    "stitchRightEdge", "stitchBottomEdge", "stapleDualLeft", "stapleDualTop", "stapleDualRight",
    "stapleDualBottom", "unknownFutureValue",
    /* evolvable */
    "stapleTripleLeft", "stapleTripleTop", "stapleTripleRight", "stapleTripleBottom", "bindLeft",
    "bindTop", "bindRight", "bindBottom", "foldAccordion", "foldDoubleGate", "foldGate",
    "foldHalf", "foldHalfZ", "foldLeftGate", "foldLetter", "foldParallel", "foldPoster",
    "foldRightGate", "foldZ", "foldEngineeringZ", "punchTopLeft", "punchBottomLeft",
    "punchTopRight", "punchBottomRight", "punchDualLeft", "punchDualTop", "punchDualRight",
    "punchDualBottom", "punchTripleLeft", "punchTripleTop", "punchTripleRight",
    "punchTripleBottom", "punchQuadLeft", "punchQuadTop", "punchQuadRight", "punchQuadBottom",
    "fold", "trim", "bale", "bookletMaker", "coat", "laminate", "trimAfterPages",
    "trimAfterDocuments", "trimAfterCopies", "trimAfterJob"};
static const int finishing_values[] = {
    3,  4,  5,  6,  7,  8,  9,  20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72,
    73, 74, 75, 76, 77, 78};
ENUM(ENUM_PRINT_FINISHING, "printFinishing", finishing, finishing_values, 20);

static const char *const release_type[] = {"direct", "qrCode", "unknownFutureValue"};
ENUM(ENUM_PRINT_RELEASE_TYPE, "printReleaseType", release_type, NULL, COUNT(release_type));

static const char *const incompatible[] = {"show", "hide", "unknownFutureValue"};
ENUM(ENUM_INCOMPATIBLE_PRINTER_SETTINGS, "incompatiblePrinterSettings", incompatible, NULL,
     COUNT(incompatible));

static const char *const release_methods[] = {"none", "unknown", "badge", "biometrics",
                                              "usernamePassword", "unknownFutureValue"};
static const int release_method_values[] = {0, 1, 2, 4, 8, 16};
const enum_def_t ENUM_PRINT_JOB_RELEASE_METHODS = {"printJobReleaseMethods", release_methods,
                                                   release_method_values,
                                                   COUNT(release_methods),
                                                   COUNT(release_methods), true};

/* printerProcessingStateDetail: the 826 members of reference Appendix B in CSDL order
 * (unknownFutureValue right after interpreterResourceUnavailable; everything after it is
 * evolvable). Generated from the reference text; edit the generator, not the table. */
static const char *const printer_state_detail[] = {
    "paused", "mediaJam", "mediaNeeded", "mediaLow", "mediaEmpty", "coverOpen", "interlockOpen",
    "outputTrayMissing", "outputAreaFull", "markerSupplyLow", "markerSupplyEmpty",
    "inputTrayMissing", "outputAreaAlmostFull", "markerWasteAlmostFull", "markerWasteFull",
    "fuserOverTemp", "fuserUnderTemp", "other", "none", "movingToPaused", "shutdown",
    "connectingToDevice", "timedOut", "stopping", "stoppedPartially", "tonerLow", "tonerEmpty",
    "spoolAreaFull", "doorOpen", "opticalPhotoConductorNearEndOfLife",
    "opticalPhotoConductorLifeOver", "developerLow", "developerEmpty",
    "interpreterResourceUnavailable", "unknownFutureValue", "alertRemovalOfBinaryChangeEntry",
    "banderAdded", "banderAlmostEmpty", "banderAlmostFull", "banderAtLimit", "banderClosed",
    "banderConfigurationChange", "banderCoverClosed", "banderCoverOpen", "banderEmpty",
    "banderFull", "banderInterlockClosed", "banderInterlockOpen", "banderJam",
    "banderLifeAlmostOver", "banderLifeOver", "banderMemoryExhausted", "banderMissing",
    "banderMotorFailure", "banderNearLimit", "banderOffline", "banderOpened",
    "banderOverTemperature", "banderPowerSaver", "banderRecoverableFailure",
    "banderRecoverableStorage", "banderRemoved", "banderResourceAdded", "banderResourceRemoved",
    "banderThermistorFailure", "banderTimingFailure", "banderTurnedOff", "banderTurnedOn",
    "banderUnderTemperature", "banderUnrecoverableFailure", "banderUnrecoverableStorageError",
    "banderWarmingUp", "binderAdded", "binderAlmostEmpty", "binderAlmostFull", "binderAtLimit",
    "binderClosed", "binderConfigurationChange", "binderCoverClosed", "binderCoverOpen",
    "binderEmpty", "binderFull", "binderInterlockClosed", "binderInterlockOpen", "binderJam",
    "binderLifeAlmostOver", "binderLifeOver", "binderMemoryExhausted", "binderMissing",
    "binderMotorFailure", "binderNearLimit", "binderOffline", "binderOpened",
    "binderOverTemperature", "binderPowerSaver", "binderRecoverableFailure",
    "binderRecoverableStorage", "binderRemoved", "binderResourceAdded", "binderResourceRemoved",
    "binderThermistorFailure", "binderTimingFailure", "binderTurnedOff", "binderTurnedOn",
    "binderUnderTemperature", "binderUnrecoverableFailure", "binderUnrecoverableStorageError",
    "binderWarmingUp", "cameraFailure", "chamberCooling", "chamberFailure", "chamberHeating",
    "chamberTemperatureHigh", "chamberTemperatureLow", "cleanerLifeAlmostOver", "cleanerLifeOver",
    "configurationChange", "deactivated", "deleted", "dieCutterAdded", "dieCutterAlmostEmpty",
    "dieCutterAlmostFull", "dieCutterAtLimit", "dieCutterClosed", "dieCutterConfigurationChange",
    "dieCutterCoverClosed", "dieCutterCoverOpen", "dieCutterEmpty", "dieCutterFull",
    "dieCutterInterlockClosed", "dieCutterInterlockOpen", "dieCutterJam",
    "dieCutterLifeAlmostOver", "dieCutterLifeOver", "dieCutterMemoryExhausted", "dieCutterMissing",
    "dieCutterMotorFailure", "dieCutterNearLimit", "dieCutterOffline", "dieCutterOpened",
    "dieCutterOverTemperature", "dieCutterPowerSaver", "dieCutterRecoverableFailure",
    "dieCutterRecoverableStorage", "dieCutterRemoved", "dieCutterResourceAdded",
    "dieCutterResourceRemoved", "dieCutterThermistorFailure", "dieCutterTimingFailure",
    "dieCutterTurnedOff", "dieCutterTurnedOn", "dieCutterUnderTemperature",
    "dieCutterUnrecoverableFailure", "dieCutterUnrecoverableStorageError", "dieCutterWarmingUp",
    "extruderCooling", "extruderFailure", "extruderHeating", "extruderJam",
    "extruderTemperatureHigh", "extruderTemperatureLow", "fanFailure", "faxModemLifeAlmostOver",
    "faxModemLifeOver", "faxModemMissing", "faxModemTurnedOff", "faxModemTurnedOn", "folderAdded",
    "folderAlmostEmpty", "folderAlmostFull", "folderAtLimit", "folderClosed",
    "folderConfigurationChange", "folderCoverClosed", "folderCoverOpen", "folderEmpty",
    "folderFull", "folderInterlockClosed", "folderInterlockOpen", "folderJam",
    "folderLifeAlmostOver", "folderLifeOver", "folderMemoryExhausted", "folderMissing",
    "folderMotorFailure", "folderNearLimit", "folderOffline", "folderOpened",
    "folderOverTemperature", "folderPowerSaver", "folderRecoverableFailure",
    "folderRecoverableStorage", "folderRemoved", "folderResourceAdded", "folderResourceRemoved",
    "folderThermistorFailure", "folderTimingFailure", "folderTurnedOff", "folderTurnedOn",
    "folderUnderTemperature", "folderUnrecoverableFailure", "folderUnrecoverableStorageError",
    "folderWarmingUp", "hibernate", "holdNewJobs", "identifyPrinterRequested", "imprinterAdded",
    "imprinterAlmostEmpty", "imprinterAlmostFull", "imprinterAtLimit", "imprinterClosed",
    "imprinterConfigurationChange", "imprinterCoverClosed", "imprinterCoverOpen", "imprinterEmpty",
    "imprinterFull", "imprinterInterlockClosed", "imprinterInterlockOpen", "imprinterJam",
    "imprinterLifeAlmostOver", "imprinterLifeOver", "imprinterMemoryExhausted", "imprinterMissing",
    "imprinterMotorFailure", "imprinterNearLimit", "imprinterOffline", "imprinterOpened",
    "imprinterOverTemperature", "imprinterPowerSaver", "imprinterRecoverableFailure",
    "imprinterRecoverableStorage", "imprinterRemoved", "imprinterResourceAdded",
    "imprinterResourceRemoved", "imprinterThermistorFailure", "imprinterTimingFailure",
    "imprinterTurnedOff", "imprinterTurnedOn", "imprinterUnderTemperature",
    "imprinterUnrecoverableFailure", "imprinterUnrecoverableStorageError", "imprinterWarmingUp",
    "inputCannotFeedSizeSelected", "inputManualInputRequest", "inputMediaColorChange",
    "inputMediaFormPartsChange", "inputMediaSizeChange", "inputMediaTrayFailure",
    "inputMediaTrayFeedError", "inputMediaTrayJam", "inputMediaTypeChange",
    "inputMediaWeightChange", "inputPickRollerFailure", "inputPickRollerLifeOver",
    "inputPickRollerLifeWarn", "inputPickRollerMissing", "inputTrayElevationFailure",
    "inputTrayPositionFailure", "inserterAdded", "inserterAlmostEmpty", "inserterAlmostFull",
    "inserterAtLimit", "inserterClosed", "inserterConfigurationChange", "inserterCoverClosed",
    "inserterCoverOpen", "inserterEmpty", "inserterFull", "inserterInterlockClosed",
    "inserterInterlockOpen", "inserterJam", "inserterLifeAlmostOver", "inserterLifeOver",
    "inserterMemoryExhausted", "inserterMissing", "inserterMotorFailure", "inserterNearLimit",
    "inserterOffline", "inserterOpened", "inserterOverTemperature", "inserterPowerSaver",
    "inserterRecoverableFailure", "inserterRecoverableStorage", "inserterRemoved",
    "inserterResourceAdded", "inserterResourceRemoved", "inserterThermistorFailure",
    "inserterTimingFailure", "inserterTurnedOff", "inserterTurnedOn", "inserterUnderTemperature",
    "inserterUnrecoverableFailure", "inserterUnrecoverableStorageError", "inserterWarmingUp",
    "interlockClosed", "interpreterCartridgeAdded", "interpreterCartridgeDeleted",
    "interpreterComplexPageEncountered", "interpreterMemoryDecrease", "interpreterMemoryIncrease",
    "interpreterResourceAdded", "interpreterResourceDeleted", "lampAtEol", "lampFailure",
    "lampNearEol", "laserAtEol", "laserFailure", "laserNearEol", "makeEnvelopeAdded",
    "makeEnvelopeAlmostEmpty", "makeEnvelopeAlmostFull", "makeEnvelopeAtLimit",
    "makeEnvelopeClosed", "makeEnvelopeConfigurationChange", "makeEnvelopeCoverClosed",
    "makeEnvelopeCoverOpen", "makeEnvelopeEmpty", "makeEnvelopeFull",
    "makeEnvelopeInterlockClosed", "makeEnvelopeInterlockOpen", "makeEnvelopeJam",
    "makeEnvelopeLifeAlmostOver", "makeEnvelopeLifeOver", "makeEnvelopeMemoryExhausted",
    "makeEnvelopeMissing", "makeEnvelopeMotorFailure", "makeEnvelopeNearLimit",
    "makeEnvelopeOffline", "makeEnvelopeOpened", "makeEnvelopeOverTemperature",
    "makeEnvelopePowerSaver", "makeEnvelopeRecoverableFailure", "makeEnvelopeRecoverableStorage",
    "makeEnvelopeRemoved", "makeEnvelopeResourceAdded", "makeEnvelopeResourceRemoved",
    "makeEnvelopeThermistorFailure", "makeEnvelopeTimingFailure", "makeEnvelopeTurnedOff",
    "makeEnvelopeTurnedOn", "makeEnvelopeUnderTemperature", "makeEnvelopeUnrecoverableFailure",
    "makeEnvelopeUnrecoverableStorageError", "makeEnvelopeWarmingUp",
    "markerAdjustingPrintQuality", "markerCleanerMissing", "markerDeveloperAlmostEmpty",
    "markerDeveloperEmpty", "markerDeveloperMissing", "markerFuserMissing",
    "markerFuserThermistorFailure", "markerFuserTimingFailure", "markerInkAlmostEmpty",
    "markerInkEmpty", "markerInkMissing", "markerOpcMissing", "markerPrintRibbonAlmostEmpty",
    "markerPrintRibbonEmpty", "markerPrintRibbonMissing", "markerSupplyAlmostEmpty",
    "markerSupplyMissing", "markerTonerCartridgeMissing", "markerTonerMissing",
    "markerWasteInkReceptacleAlmostFull", "markerWasteInkReceptacleFull",
    "markerWasteInkReceptacleMissing", "markerWasteMissing",
    "markerWasteTonerReceptacleAlmostFull", "markerWasteTonerReceptacleFull",
    "markerWasteTonerReceptacleMissing", "materialEmpty", "materialLow", "materialNeeded",
    "mediaDrying", "mediaPathCannotDuplexMediaSelected", "mediaPathFailure", "mediaPathInputEmpty",
    "mediaPathInputFeedError", "mediaPathInputJam", "mediaPathInputRequest", "mediaPathJam",
    "mediaPathMediaTrayAlmostFull", "mediaPathMediaTrayFull", "mediaPathMediaTrayMissing",
    "mediaPathOutputFeedError", "mediaPathOutputFull", "mediaPathOutputJam",
    "mediaPathPickRollerFailure", "mediaPathPickRollerLifeOver", "mediaPathPickRollerLifeWarn",
    "mediaPathPickRollerMissing", "motorFailure", "outputMailboxSelectFailure",
    "outputMediaTrayFailure", "outputMediaTrayFeedError", "outputMediaTrayJam", "perforaterAdded",
    "perforaterAlmostEmpty", "perforaterAlmostFull", "perforaterAtLimit", "perforaterClosed",
    "perforaterConfigurationChange", "perforaterCoverClosed", "perforaterCoverOpen",
    "perforaterEmpty", "perforaterFull", "perforaterInterlockClosed", "perforaterInterlockOpen",
    "perforaterJam", "perforaterLifeAlmostOver", "perforaterLifeOver", "perforaterMemoryExhausted",
    "perforaterMissing", "perforaterMotorFailure", "perforaterNearLimit", "perforaterOffline",
    "perforaterOpened", "perforaterOverTemperature", "perforaterPowerSaver",
    "perforaterRecoverableFailure", "perforaterRecoverableStorage", "perforaterRemoved",
    "perforaterResourceAdded", "perforaterResourceRemoved", "perforaterThermistorFailure",
    "perforaterTimingFailure", "perforaterTurnedOff", "perforaterTurnedOn",
    "perforaterUnderTemperature", "perforaterUnrecoverableFailure",
    "perforaterUnrecoverableStorageError", "perforaterWarmingUp", "platformCooling",
    "platformFailure", "platformHeating", "platformTemperatureHigh", "platformTemperatureLow",
    "powerDown", "powerUp", "printerManualReset", "printerNmsReset", "printerReadyToPrint",
    "puncherAdded", "puncherAlmostEmpty", "puncherAlmostFull", "puncherAtLimit", "puncherClosed",
    "puncherConfigurationChange", "puncherCoverClosed", "puncherCoverOpen", "puncherEmpty",
    "puncherFull", "puncherInterlockClosed", "puncherInterlockOpen", "puncherJam",
    "puncherLifeAlmostOver", "puncherLifeOver", "puncherMemoryExhausted", "puncherMissing",
    "puncherMotorFailure", "puncherNearLimit", "puncherOffline", "puncherOpened",
    "puncherOverTemperature", "puncherPowerSaver", "puncherRecoverableFailure",
    "puncherRecoverableStorage", "puncherRemoved", "puncherResourceAdded",
    "puncherResourceRemoved", "puncherThermistorFailure", "puncherTimingFailure",
    "puncherTurnedOff", "puncherTurnedOn", "puncherUnderTemperature",
    "puncherUnrecoverableFailure", "puncherUnrecoverableStorageError", "puncherWarmingUp",
    "resuming", "scanMediaPathFailure", "scanMediaPathInputEmpty", "scanMediaPathInputFeedError",
    "scanMediaPathInputJam", "scanMediaPathInputRequest", "scanMediaPathJam",
    "scanMediaPathOutputFeedError", "scanMediaPathOutputFull", "scanMediaPathOutputJam",
    "scanMediaPathPickRollerFailure", "scanMediaPathPickRollerLifeOver",
    "scanMediaPathPickRollerLifeWarn", "scanMediaPathPickRollerMissing",
    "scanMediaPathTrayAlmostFull", "scanMediaPathTrayFull", "scanMediaPathTrayMissing",
    "scannerLightFailure", "scannerLightLifeAlmostOver", "scannerLightLifeOver",
    "scannerLightMissing", "scannerSensorFailure", "scannerSensorLifeAlmostOver",
    "scannerSensorLifeOver", "scannerSensorMissing", "separationCutterAdded",
    "separationCutterAlmostEmpty", "separationCutterAlmostFull", "separationCutterAtLimit",
    "separationCutterClosed", "separationCutterConfigurationChange", "separationCutterCoverClosed",
    "separationCutterCoverOpen", "separationCutterEmpty", "separationCutterFull",
    "separationCutterInterlockClosed", "separationCutterInterlockOpen", "separationCutterJam",
    "separationCutterLifeAlmostOver", "separationCutterLifeOver",
    "separationCutterMemoryExhausted", "separationCutterMissing", "separationCutterMotorFailure",
    "separationCutterNearLimit", "separationCutterOffline", "separationCutterOpened",
    "separationCutterOverTemperature", "separationCutterPowerSaver",
    "separationCutterRecoverableFailure", "separationCutterRecoverableStorage",
    "separationCutterRemoved", "separationCutterResourceAdded", "separationCutterResourceRemoved",
    "separationCutterThermistorFailure", "separationCutterTimingFailure",
    "separationCutterTurnedOff", "separationCutterTurnedOn", "separationCutterUnderTemperature",
    "separationCutterUnrecoverableFailure", "separationCutterUnrecoverableStorageError",
    "separationCutterWarmingUp", "sheetRotatorAdded", "sheetRotatorAlmostEmpty",
    "sheetRotatorAlmostFull", "sheetRotatorAtLimit", "sheetRotatorClosed",
    "sheetRotatorConfigurationChange", "sheetRotatorCoverClosed", "sheetRotatorCoverOpen",
    "sheetRotatorEmpty", "sheetRotatorFull", "sheetRotatorInterlockClosed",
    "sheetRotatorInterlockOpen", "sheetRotatorJam", "sheetRotatorLifeAlmostOver",
    "sheetRotatorLifeOver", "sheetRotatorMemoryExhausted", "sheetRotatorMissing",
    "sheetRotatorMotorFailure", "sheetRotatorNearLimit", "sheetRotatorOffline",
    "sheetRotatorOpened", "sheetRotatorOverTemperature", "sheetRotatorPowerSaver",
    "sheetRotatorRecoverableFailure", "sheetRotatorRecoverableStorage", "sheetRotatorRemoved",
    "sheetRotatorResourceAdded", "sheetRotatorResourceRemoved", "sheetRotatorThermistorFailure",
    "sheetRotatorTimingFailure", "sheetRotatorTurnedOff", "sheetRotatorTurnedOn",
    "sheetRotatorUnderTemperature", "sheetRotatorUnrecoverableFailure",
    "sheetRotatorUnrecoverableStorageError", "sheetRotatorWarmingUp", "slitterAdded",
    "slitterAlmostEmpty", "slitterAlmostFull", "slitterAtLimit", "slitterClosed",
    "slitterConfigurationChange", "slitterCoverClosed", "slitterCoverOpen", "slitterEmpty",
    "slitterFull", "slitterInterlockClosed", "slitterInterlockOpen", "slitterJam",
    "slitterLifeAlmostOver", "slitterLifeOver", "slitterMemoryExhausted", "slitterMissing",
    "slitterMotorFailure", "slitterNearLimit", "slitterOffline", "slitterOpened",
    "slitterOverTemperature", "slitterPowerSaver", "slitterRecoverableFailure",
    "slitterRecoverableStorage", "slitterRemoved", "slitterResourceAdded",
    "slitterResourceRemoved", "slitterThermistorFailure", "slitterTimingFailure",
    "slitterTurnedOff", "slitterTurnedOn", "slitterUnderTemperature",
    "slitterUnrecoverableFailure", "slitterUnrecoverableStorageError", "slitterWarmingUp",
    "stackerAdded", "stackerAlmostEmpty", "stackerAlmostFull", "stackerAtLimit", "stackerClosed",
    "stackerConfigurationChange", "stackerCoverClosed", "stackerCoverOpen", "stackerEmpty",
    "stackerFull", "stackerInterlockClosed", "stackerInterlockOpen", "stackerJam",
    "stackerLifeAlmostOver", "stackerLifeOver", "stackerMemoryExhausted", "stackerMissing",
    "stackerMotorFailure", "stackerNearLimit", "stackerOffline", "stackerOpened",
    "stackerOverTemperature", "stackerPowerSaver", "stackerRecoverableFailure",
    "stackerRecoverableStorage", "stackerRemoved", "stackerResourceAdded",
    "stackerResourceRemoved", "stackerThermistorFailure", "stackerTimingFailure",
    "stackerTurnedOff", "stackerTurnedOn", "stackerUnderTemperature",
    "stackerUnrecoverableFailure", "stackerUnrecoverableStorageError", "stackerWarmingUp",
    "standby", "staplerAdded", "staplerAlmostEmpty", "staplerAlmostFull", "staplerAtLimit",
    "staplerClosed", "staplerConfigurationChange", "staplerCoverClosed", "staplerCoverOpen",
    "staplerEmpty", "staplerFull", "staplerInterlockClosed", "staplerInterlockOpen", "staplerJam",
    "staplerLifeAlmostOver", "staplerLifeOver", "staplerMemoryExhausted", "staplerMissing",
    "staplerMotorFailure", "staplerNearLimit", "staplerOffline", "staplerOpened",
    "staplerOverTemperature", "staplerPowerSaver", "staplerRecoverableFailure",
    "staplerRecoverableStorage", "staplerRemoved", "staplerResourceAdded",
    "staplerResourceRemoved", "staplerThermistorFailure", "staplerTimingFailure",
    "staplerTurnedOff", "staplerTurnedOn", "staplerUnderTemperature",
    "staplerUnrecoverableFailure", "staplerUnrecoverableStorageError", "staplerWarmingUp",
    "stitcherAdded", "stitcherAlmostEmpty", "stitcherAlmostFull", "stitcherAtLimit",
    "stitcherClosed", "stitcherConfigurationChange", "stitcherCoverClosed", "stitcherCoverOpen",
    "stitcherEmpty", "stitcherFull", "stitcherInterlockClosed", "stitcherInterlockOpen",
    "stitcherJam", "stitcherLifeAlmostOver", "stitcherLifeOver", "stitcherMemoryExhausted",
    "stitcherMissing", "stitcherMotorFailure", "stitcherNearLimit", "stitcherOffline",
    "stitcherOpened", "stitcherOverTemperature", "stitcherPowerSaver",
    "stitcherRecoverableFailure", "stitcherRecoverableStorage", "stitcherRemoved",
    "stitcherResourceAdded", "stitcherResourceRemoved", "stitcherThermistorFailure",
    "stitcherTimingFailure", "stitcherTurnedOff", "stitcherTurnedOn", "stitcherUnderTemperature",
    "stitcherUnrecoverableFailure", "stitcherUnrecoverableStorageError", "stitcherWarmingUp",
    "subunitAdded", "subunitAlmostEmpty", "subunitAlmostFull", "subunitAtLimit", "subunitClosed",
    "subunitCoolingDown", "subunitEmpty", "subunitFull", "subunitLifeAlmostOver",
    "subunitLifeOver", "subunitMemoryExhausted", "subunitMissing", "subunitMotorFailure",
    "subunitNearLimit", "subunitOffline", "subunitOpened", "subunitOverTemperature",
    "subunitPowerSaver", "subunitRecoverableFailure", "subunitRecoverableStorage",
    "subunitRemoved", "subunitResourceAdded", "subunitResourceRemoved", "subunitThermistorFailure",
    "subunitTimingFailure", "subunitTurnedOff", "subunitTurnedOn", "subunitUnderTemperature",
    "subunitUnrecoverableFailure", "subunitUnrecoverableStorage", "subunitWarmingUp", "suspend",
    "testing", "trimmerAdded", "trimmerAlmostEmpty", "trimmerAlmostFull", "trimmerAtLimit",
    "trimmerClosed", "trimmerConfigurationChange", "trimmerCoverClosed", "trimmerCoverOpen",
    "trimmerEmpty", "trimmerFull", "trimmerInterlockClosed", "trimmerInterlockOpen", "trimmerJam",
    "trimmerLifeAlmostOver", "trimmerLifeOver", "trimmerMemoryExhausted", "trimmerMissing",
    "trimmerMotorFailure", "trimmerNearLimit", "trimmerOffline", "trimmerOpened",
    "trimmerOverTemperature", "trimmerPowerSaver", "trimmerRecoverableFailure",
    "trimmerRecoverableStorage", "trimmerRemoved", "trimmerResourceAdded",
    "trimmerResourceRemoved", "trimmerThermistorFailure", "trimmerTimingFailure",
    "trimmerTurnedOff", "trimmerTurnedOn", "trimmerUnderTemperature",
    "trimmerUnrecoverableFailure", "trimmerUnrecoverableStorageError", "trimmerWarmingUp",
    "unknown", "wrapperAdded", "wrapperAlmostEmpty", "wrapperAlmostFull", "wrapperAtLimit",
    "wrapperClosed", "wrapperConfigurationChange", "wrapperCoverClosed", "wrapperCoverOpen",
    "wrapperEmpty", "wrapperFull", "wrapperInterlockClosed", "wrapperInterlockOpen", "wrapperJam",
    "wrapperLifeAlmostOver", "wrapperLifeOver", "wrapperMemoryExhausted", "wrapperMissing",
    "wrapperMotorFailure", "wrapperNearLimit", "wrapperOffline", "wrapperOpened",
    "wrapperOverTemperature", "wrapperPowerSaver", "wrapperRecoverableFailure",
    "wrapperRecoverableStorage", "wrapperRemoved", "wrapperResourceAdded",
    "wrapperResourceRemoved", "wrapperThermistorFailure", "wrapperTimingFailure",
    "wrapperTurnedOff", "wrapperTurnedOn", "wrapperUnderTemperature",
    "wrapperUnrecoverableFailure", "wrapperUnrecoverableStorageError", "wrapperWarmingUp",
};
static const int printer_state_detail_values[] = {
    0, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
    28, 29, 30, 31, 32, 33, 34, 35, 827, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49,
    50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73,
    74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97,
    98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116,
    117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135,
    136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154,
    155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173,
    174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192,
    193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211,
    212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230,
    231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249,
    250, 251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268,
    269, 270, 271, 272, 273, 274, 275, 276, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287,
    288, 289, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300, 301, 302, 303, 304, 305, 306,
    307, 308, 309, 310, 311, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 322, 323, 324, 325,
    326, 327, 328, 329, 330, 331, 332, 333, 334, 335, 336, 337, 338, 339, 340, 341, 342, 343, 344,
    345, 346, 347, 348, 349, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 360, 361, 362, 363,
    364, 365, 366, 367, 368, 369, 370, 371, 372, 373, 374, 375, 376, 377, 378, 379, 380, 381, 382,
    383, 384, 385, 386, 387, 388, 389, 390, 391, 392, 393, 394, 395, 396, 397, 398, 399, 400, 401,
    402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 419, 420,
    421, 422, 423, 424, 425, 426, 427, 428, 429, 430, 431, 432, 433, 434, 435, 436, 437, 438, 439,
    440, 441, 442, 443, 444, 445, 446, 447, 448, 449, 450, 451, 452, 453, 454, 455, 456, 457, 458,
    459, 460, 461, 462, 463, 464, 465, 466, 467, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
    478, 479, 480, 481, 482, 483, 484, 485, 486, 487, 488, 489, 490, 491, 492, 493, 494, 495, 496,
    497, 498, 499, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 512, 513, 514, 515,
    516, 517, 518, 519, 520, 521, 522, 523, 524, 525, 526, 527, 528, 529, 530, 531, 532, 533, 534,
    535, 536, 537, 538, 539, 540, 541, 542, 543, 544, 545, 546, 547, 548, 549, 550, 551, 552, 553,
    554, 555, 556, 557, 558, 559, 560, 561, 562, 563, 564, 565, 566, 567, 568, 569, 570, 571, 572,
    573, 574, 575, 576, 577, 578, 579, 580, 581, 582, 583, 584, 585, 586, 587, 588, 589, 590, 591,
    592, 593, 594, 595, 596, 597, 598, 599, 600, 601, 602, 603, 604, 605, 606, 607, 608, 609, 610,
    611, 612, 613, 614, 615, 616, 617, 618, 619, 620, 621, 622, 623, 624, 625, 626, 627, 628, 629,
    630, 631, 632, 633, 634, 635, 636, 637, 638, 639, 640, 641, 642, 643, 644, 645, 646, 647, 648,
    649, 650, 651, 652, 653, 654, 655, 656, 657, 658, 659, 660, 661, 662, 663, 664, 665, 666, 667,
    668, 669, 670, 671, 672, 673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 684, 685, 686,
    687, 688, 689, 690, 691, 692, 693, 694, 695, 696, 697, 698, 699, 700, 701, 702, 703, 704, 705,
    706, 707, 708, 709, 710, 711, 712, 713, 714, 715, 716, 717, 718, 719, 720, 721, 722, 723, 724,
    725, 726, 727, 728, 729, 730, 731, 732, 733, 734, 735, 736, 737, 738, 739, 740, 741, 742, 743,
    744, 745, 746, 747, 748, 749, 750, 751, 752, 753, 754, 755, 756, 757, 758, 759, 760, 761, 762,
    763, 764, 765, 766, 767, 768, 769, 770, 771, 772, 773, 774, 775, 776, 777, 778, 779, 780, 781,
    782, 783, 784, 785, 786, 787, 788, 789, 790, 791, 792, 793, 794, 795, 796, 797, 798, 799, 800,
    801, 802, 803, 804, 805, 806, 807, 808, 809, 810, 811, 812, 813, 814, 815, 816, 817, 818, 819,
    820, 821, 822, 823, 824, 825, 826,
};
ENUM(ENUM_PRINTER_PROCESSING_STATE_DETAIL, "printerProcessingStateDetail", printer_state_detail,
     printer_state_detail_values, 35);

/* printerCapabilities.mediaSizes / printerDefaults.mediaSize / printJobConfiguration.mediaSize:
 * the 237 names of reference section 2.9, in documented order. Not a Graph enum (the wire type is
 * String), so there is no unknownFutureValue. Generated from the reference text. */
static const char *const media_size[] = {
    "A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10", "ASME F", "B0", "B1", "B2",
    "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "Business Card", "Business Card 2x3.5in",
    "Business Card 55x85mm", "Business Card 55x91mm", "C4", "C5", "C6", "C7", "C8", "C9", "C10",
    "DL", "ISO 2A0", "ISO A0x3", "ISO A1x3", "ISO A1x4", "ISO A2x3", "ISO A2x4", "ISO A2x5",
    "ISO A3 Extra", "ISO A3x3", "ISO A3x4", "ISO A3x5", "ISO A3x6", "ISO A3x7", "ISO A4 Extra",
    "ISO A4 Tab", "ISO A4x3", "ISO A4x4", "ISO A4x5", "ISO A4x6", "ISO A4x7", "ISO A4x8",
    "ISO A4x9", "ISO A5 Extra", "ISO B5 Extra", "ISO B6C4", "ISO C0", "ISO C1", "ISO C1 Long Edge",
    "ISO C2", "ISO C2 Long Edge", "ISO C3", "ISO C3 Long Edge", "ISO C4 Long Edge",
    "ISO C5 Long Edge", "ISO C6 Long Edge", "ISO C6C5", "ISO C7 Long Edge", "ISO C7C6",
    "ISO C8 Long Edge", "ISO C9 Long Edge", "ISO C10 Long Edge", "ISO DL Long Edge", "ISO ID-1",
    "ISO RA0", "ISO RA1", "ISO RA2", "ISO RA3", "ISO RA4", "ISO SRA0", "ISO SRA1", "ISO SRA2",
    "ISO SRA3", "ISO SRA4", "JIS B0", "JIS B1", "JIS B2", "JIS B3", "JIS B4", "JIS B5", "JIS B6",
    "JIS B7", "JIS B8", "JIS B9", "JIS B10", "JIS Exec", "JPN Chou2", "JPN Chou3", "JPN Chou4",
    "JPN Chou40", "JPN Hagaki", "JPN Kahu", "JPN Kaku1", "JPN Kaku2", "JPN Kaku3", "JPN Kaku4",
    "JPN Kaku5", "JPN Kaku7", "JPN Kaku8", "JPN Oufuku", "JPN You1", "JPN You3", "JPN You4",
    "JPN You4 Long Edge", "JPN You5", "JPN You6", "JPN You7", "JPN Youchou2", "JPN Youchou3",
    "JPN Youchou4", "Large Photo", "Medium Photo", "North America 5x7in", "North America 6x9in",
    "North America 7x9in", "North America 9x11in", "North America 10x11in",
    "North America 10x13in", "North America 10x14in", "North America 10x15in",
    "North America 11x12in", "North America 11x15in", "North America 12x19in", "North America A2",
    "North America Arch A", "North America Arch B", "North America Arch C", "North America Arch D",
    "North America Arch E", "North America Arch E2", "North America Arch E3",
    "North America Architecture E1", "North America B Plus", "North America C", "North America C5",
    "North America D", "North America E", "North America EUR EDP", "North America Executive",
    "North America F", "North America Fanfold EUR", "North America Fanfold US",
    "North America Foolscap", "North America Government Letter", "North America Govt Legal",
    "North America Index 3x5in", "North America Index 4x6in", "North America Index 4x6 Ext",
    "North America Index 5x8in", "North America Invoice", "North America Ledger",
    "North America Legal", "North America Legal Extra", "North America Letter",
    "North America Letter Extra", "North America Letter Plus", "North America Monarch",
    "North America Monarch Long Edge", "North America Number 9 Envelope",
    "North America Number 9 Long Edge", "North America Number 10 Envelope",
    "North America Number 10 Long Edge", "North America Number 11 Envelope",
    "North America Number 11 Long Edge", "North America Number 12 Envelope",
    "North America Number 12 Long Edge", "North America Number 14 Envelope",
    "North America Number 14 Long Edge", "North America Oficio", "North America Personal",
    "North America Personal Long Edge", "North America Quarto", "North America Super A",
    "North America Super B", "OE 12x16", "OE 13x22", "OE 14x17", "OE 18x22", "OE A2 Plus",
    "OE Photo 10R", "OE Photo 12R", "OE Photo 14x18", "OE Photo 16R", "OE Photo 20R",
    "OE Photo 20x30", "OE Photo 22R", "OE Photo 22x28", "OE Photo 24R", "OE Photo 24x30",
    "OE Photo 30R", "OE Photo S8R", "OE Square Photo 4x4", "OE Square Photo 5x5", "OM 16K 184x260",
    "OM 16K 195x270", "OM Dai Pa Kai", "OM Folio", "OM Folio SP", "OM Invite", "OM Italian",
    "OM Juuro Ku Kai", "OM Pa Kai", "OM Photo 30x40", "OM Photo 30x45", "OM Photo 30x90",
    "OM Photo 35x46", "OM Photo 40x60", "OM Photo 50x75", "OM Photo 50x76", "OM Photo 60x90",
    "Photo", "Photo l 3.5x5in", "PRC 1", "PRC 2", "PRC 4", "PRC 6", "PRC 7", "PRC 8", "PRC 16K",
    "PRC 32K", "Small Photo", "Square Photo", "Wide Photo",
};
ENUM(ENUM_PRINT_MEDIA_SIZE, "mediaSize", media_size, NULL, COUNT(media_size));


int enum_lookup(const enum_def_t *e, const char *name, bool accept_evolvable) {
  if (!name) return -1;
  for (size_t i = 0; i < e->count; i++) {
    bool match = strcmp(e->members[i], name) == 0;
    /* The beta docs spell counterClockwise...; the CSDL spelling is canonical. */
    if (!match && e == &ENUM_PRINT_MULTIPAGE_LAYOUT && strncmp(name, "counterClockwise", 16) == 0)
      match = strcasecmp(e->members[i], name) == 0;
    if (!match) continue;
    if (i >= e->evolvable_from && !accept_evolvable) return -1;
    return (int)i;
  }
  return -1;
}

const char *enum_emit(const enum_def_t *e, int i, bool include_evolvable) {
  if (i < 0 || (size_t)i >= e->count) return "unknownFutureValue";
  if ((size_t)i >= e->evolvable_from && !include_evolvable) return "unknownFutureValue";
  return e->members[i];
}

int enum_value(const enum_def_t *e, int i) { return e->values ? e->values[i] : i; }

void enum_describe(const enum_def_t *e, char *out, size_t outlen) {
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < e->count && i < e->evolvable_from; i++) {
    if (strcmp(e->members[i], "unknownFutureValue") == 0) continue;
    int n = snprintf(out + off, outlen - off, "%s%s", off ? ", " : "", e->members[i]);
    if (n < 0 || (size_t)n >= outlen - off) break;
    off += (size_t)n;
  }
}
