//! What the Kubernetes extractor keeps of each manifest object: names, labels, ports, env
//! sources and routes, each with the location of its node, so files can be matched repo-wide.

use std::collections::BTreeMap;
use switchyard_model::{EndpointKind, Location};

/// A pod-running object: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod…
#[derive(Debug, Clone)]
pub(super) struct Workload {
    pub path: String,
    pub name: String,
    pub namespace: String,
    pub name_location: Location,
    /// Pod template labels, which Services select.
    pub labels: BTreeMap<String, String>,
    pub image: Option<String>,
    /// `ContainerPort` and `HostPort` endpoints of the containers.
    pub ports: Vec<(EndpointKind, Location)>,
    pub env: Vec<EnvSource>,
    /// Tokens of `command`/`args` that may be addresses, each at its own location.
    pub commands: Vec<(String, Location)>,
    /// ConfigMaps mounted as volumes (their data are config files this workload reads).
    pub mounted_config_maps: Vec<String>,
}

/// Where one environment variable (or a batch of them) comes from.
#[derive(Debug, Clone)]
pub(super) enum EnvSource {
    Value {
        key: String,
        value: String,
        location: Location,
    },
    /// `valueFrom.configMapKeyRef`.
    ConfigMapKey {
        key: String,
        config_map: String,
        config_key: String,
    },
    /// `envFrom.configMapRef`, with its optional prefix.
    ConfigMap { config_map: String, prefix: String },
}

/// A `kind: Service`.
#[derive(Debug, Clone)]
pub(super) struct KService {
    pub path: String,
    pub name: String,
    pub namespace: String,
    pub name_location: Location,
    /// Empty when the Service selects nothing (ExternalName, manual Endpoints).
    pub selector: BTreeMap<String, String>,
    /// `ContainerPort` (`port`) and `NodePort` (`nodePort`) endpoints.
    pub ports: Vec<(EndpointKind, Location)>,
    pub external_name: Option<(String, Location)>,
}

/// One host (+ path) an Ingress or Traefik IngressRoute sends to a Service.
#[derive(Debug, Clone)]
pub(super) struct Route {
    pub path: String,
    /// Namespace of the backend Service.
    pub namespace: String,
    pub host: String,
    pub url_path: Option<String>,
    pub service: String,
    pub host_location: Location,
    pub service_location: Location,
}

/// A `kind: ConfigMap`.
#[derive(Debug, Clone)]
pub(super) struct ConfigMap {
    pub path: String,
    pub name: String,
    pub namespace: String,
    pub data: Vec<DataEntry>,
    /// Repo paths of the files a kustomize `configMapGenerator` builds it from (`files`, `envs`):
    /// a workload that mounts or imports the ConfigMap reads them.
    pub files: Vec<String>,
}

/// One `data` entry of a ConfigMap.
#[derive(Debug, Clone)]
pub(super) struct DataEntry {
    pub key: String,
    pub value: String,
    pub location: Location,
    /// For multi-line values (config files): the URLs inside, each at its own location.
    pub urls: Vec<(String, Location)>,
    /// For a config file in YAML/JSON (`prometheus.yml`, `config.json`): the addresses its
    /// settings hold, read like a config file of the repository (key paths kept), located in
    /// the manifest. Replaces `urls` when not empty.
    pub settings: Vec<switchyard_model::Reference>,
}

/// Every object read from one manifest file, and the problems met.
#[derive(Debug, Clone, Default)]
pub(super) struct Objects {
    pub workloads: Vec<Workload>,
    pub services: Vec<KService>,
    pub routes: Vec<Route>,
    pub config_maps: Vec<ConfigMap>,
    pub diagnostics: Vec<switchyard_model::Diagnostic>,
}

impl Objects {
    /// Calls `f` on every location held (to move locations of rendered templates).
    pub fn for_each_location(&mut self, f: &mut dyn FnMut(&mut Location)) {
        for w in &mut self.workloads {
            f(&mut w.name_location);
            w.ports.iter_mut().for_each(|(_, l)| f(l));
            w.commands.iter_mut().for_each(|(_, l)| f(l));
            for env in &mut w.env {
                if let EnvSource::Value { location, .. } = env {
                    f(location);
                }
            }
        }
        for s in &mut self.services {
            f(&mut s.name_location);
            s.ports.iter_mut().for_each(|(_, l)| f(l));
            if let Some((_, l)) = &mut s.external_name {
                f(l);
            }
        }
        for r in &mut self.routes {
            f(&mut r.host_location);
            f(&mut r.service_location);
        }
        for cm in &mut self.config_maps {
            for d in &mut cm.data {
                f(&mut d.location);
                d.urls.iter_mut().for_each(|(_, l)| f(l));
                d.settings.iter_mut().for_each(|r| f(&mut r.location));
            }
        }
        for d in &mut self.diagnostics {
            f(&mut d.location);
        }
    }
}
